/**
 * The token store's rules as plain functions, with no Effect and no platform: the file format and
 * its keys, how a key is normalised, where the store file lives by default, what counts as a store
 * URL, and until when a stored grant is handed out without a refresh. The file store, the managed
 * token and the `vedauth` command line's lean `token` path (which answers from the store file
 * without loading Effect) all use these, so they cannot disagree.
 *
 * The file: `{"format":"vedauth-token-store","version":2,"revision":N,"grants":{KEY:
 * {"version":V,"grant":{...}}}}`. `revision` counts every write to the file and a record's version
 * is the revision that wrote it, so versions only grow, even across a remove and a new set: a
 * compare-and-set can never mistake a new record for the one it read (no ABA). Version 1 files
 * (grants without versions) are read as revision 0 and written back as version 2.
 *
 * @since 0.4.0
 */
import type { Key } from "./TokenStore.js"

/**
 * The file's format marker.
 *
 * @since 0.4.0
 * @category format
 */
export const fileFormat = "vedauth-token-store"

/**
 * The format version written (versions 1 and 2 are read).
 *
 * @since 0.4.0
 * @category format
 */
export const fileVersion = 2

/**
 * The file's records by key text (`keyString`); each grant stays encoded until it is asked for.
 *
 * @since 0.4.0
 * @category format
 */
export interface StoreData {
  readonly revision: number
  readonly records: Readonly<Record<string, { readonly version: number; readonly grant: unknown }>>
}

/**
 * A store with nothing in it, as a missing file reads.
 *
 * @since 0.4.0
 * @category format
 */
export const emptyStore: StoreData = { revision: 0, records: {} }

/**
 * A parse's outcome: the value, or a sentence that says what is wrong and what to do.
 *
 * @since 0.4.0
 * @category format
 */
export type Parsed<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: string }

const refuse = (error: string): Parsed<never> => ({ ok: false, error })
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
const isCount = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0

const parseRecords = (grants: Record<string, unknown>, revision: number, versioned: boolean): Parsed<StoreData> => {
  const records: Record<string, { version: number; grant: unknown }> = {}
  for (const [key, entry] of Object.entries(grants)) {
    if (!versioned) {
      records[key] = { version: 0, grant: entry }
      continue
    }
    if (!isObject(entry) || !isCount(entry.version) || entry.version > revision || !("grant" in entry)) {
      return refuse("a record in the token store has no valid version; move the file aside to start afresh")
    }
    records[key] = { version: entry.version, grant: entry.grant }
  }
  return { ok: true, value: { revision, records } }
}

/**
 * Parses the file's text. Anything that is not our format is refused with a message that says what
 * to do, so that a grant in a file we do not understand is never overwritten.
 *
 * @since 0.4.0
 * @category format
 */
export const parseStore = (text: string): Parsed<StoreData> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return refuse("the token store is corrupt (not JSON); move it aside to start afresh")
  }
  if (!isObject(json)) return refuse("the token store is not a JSON object; move it aside to start afresh")
  if (json.format !== fileFormat) {
    return refuse(`the file is not a vedauth token store (no "format": "${fileFormat}"); refusing to touch it`)
  }
  if (json.version !== 1 && json.version !== fileVersion) {
    return refuse(
      `the token store has format version ${
        String(json.version)
      }, this vedauth reads versions 1 and ${fileVersion}; refusing to overwrite it`
    )
  }
  if (!isObject(json.grants)) return refuse("the token store has no \"grants\" object; move it aside to start afresh")
  if (json.version === 1) return parseRecords(json.grants, 0, false)
  if (!isCount(json.revision)) return refuse("the token store has no valid \"revision\"; move it aside to start afresh")
  return parseRecords(json.grants, json.revision, true)
}

/**
 * The file's text for `data`, in the current format version.
 *
 * @since 0.4.0
 * @category format
 */
export const printStore = (data: StoreData): string =>
  JSON.stringify({ format: fileFormat, version: fileVersion, revision: data.revision, grants: data.records }, null, 2) +
  "\n"

/**
 * The server as keys hold it: lower case, no trailing slash.
 *
 * @since 0.4.0
 * @category keys
 */
export const serverKey = (url: string): string => url.toLowerCase().replace(/\/+$/, "")

/**
 * The text a key is stored under: server (`serverKey`) and user in lower case, client id and scope
 * as given.
 *
 * @since 0.4.0
 * @category keys
 */
export const keyString = (key: Key): string =>
  JSON.stringify([serverKey(key.server), key.clientId, key.scope, key.user.toLowerCase()])

/**
 * The key a stored text stands for (see `keyString`), or undefined for one we did not write.
 *
 * @since 0.4.0
 * @category keys
 */
export const parseKey = (text: string): Key | undefined => {
  try {
    const parts: unknown = JSON.parse(text)
    if (!Array.isArray(parts) || parts.length !== 4 || !parts.every((part) => typeof part === "string")) {
      return undefined
    }
    const [server, clientId, scope, user] = parts as [string, string, string, string]
    return { server, clientId, scope, user }
  } catch {
    return undefined
  }
}

/**
 * The scheme, in lower case, when a store setting is a URL (`redis://...`, any `scheme://`) rather
 * than a file path, else undefined. Two letters at least, so `C://x` stays a Windows path.
 *
 * @since 0.4.0
 * @category location
 */
export const storeUrlScheme = (value: string): string | undefined =>
  /^([a-z][a-z0-9+.-]+):\/\//i.exec(value)?.[1]?.toLowerCase()

/**
 * True when a store setting is a URL rather than a file path (see `storeUrlScheme`).
 *
 * @since 0.4.0
 * @category location
 */
export const isStoreUrl = (value: string): boolean => storeUrlScheme(value) !== undefined

/**
 * The variables that place the default store file, in the order they are tried (after
 * `VEDAUTH_TOKEN_STORE`, which names the store itself).
 *
 * @since 0.4.0
 * @category location
 */
export const locationVariables = ["XDG_STATE_HOME", "HOME", "LOCALAPPDATA"] as const

/**
 * @since 0.4.0
 * @category location
 */
export type LocationVariable = typeof locationVariables[number]

/**
 * Where the store file is when nothing names it: `$XDG_STATE_HOME/vedauth/tokens.json`, else
 * `$HOME/.local/state/vedauth/tokens.json`, else `%LOCALAPPDATA%\vedauth\tokens.json` (an empty
 * variable counts as unset). The path comes as segments for the platform's own `join`; undefined
 * when none of the variables is set.
 *
 * @since 0.4.0
 * @category location
 */
export const defaultLocation = (
  lookup: (name: LocationVariable) => string | undefined
): { readonly variable: LocationVariable; readonly segments: ReadonlyArray<string> } | undefined => {
  for (const variable of locationVariables) {
    const value = lookup(variable)
    if (value === undefined || value === "") continue
    const folder = variable === "HOME" ? [value, ".local", "state"] : [value]
    return { variable, segments: [...folder, "vedauth", "tokens.json"] }
  }
  return undefined
}

/**
 * The shortest and longest refresh window chosen when none is configured.
 *
 * @since 0.4.0
 * @category freshness
 */
export const refreshWindowBounds = { minimumMillis: 30_000, maximumMillis: 5 * 60_000 } as const

/**
 * How long before expiry a refresh is due: the configured window, else 10% of the token's lifetime,
 * clamped to `refreshWindowBounds` (30 seconds to 5 minutes).
 *
 * @since 0.4.0
 * @category freshness
 */
export const refreshWindowMillis = (lifetimeMillis: number, configuredMillis?: number): number =>
  configuredMillis ??
    Math.min(
      Math.max(Math.abs(lifetimeMillis) / 10, refreshWindowBounds.minimumMillis),
      refreshWindowBounds.maximumMillis
    )

/**
 * A grant's instants, in epoch milliseconds, and whether it can be refreshed.
 *
 * @since 0.4.0
 * @category freshness
 */
export interface GrantTimes {
  readonly issuedAt: number
  readonly expiresAt: number
  /** The end of the grant (`refresh_until`); undefined when it has none. */
  readonly refreshUntil: number | undefined
  /** It has a refresh token. */
  readonly refreshable: boolean
}

/**
 * The instant (epoch millis) before which the managed token hands the grant's access token out as
 * it is: the refresh window before expiry for a grant that can be refreshed, expiry for one that
 * cannot (nothing is gained by asking earlier), and never past the grant's end.
 *
 * @since 0.4.0
 * @category freshness
 */
export const freshUntilMillis = (grant: GrantTimes, configuredWindowMillis?: number): number => {
  const until = grant.refreshable
    ? grant.expiresAt - refreshWindowMillis(grant.expiresAt - grant.issuedAt, configuredWindowMillis)
    : grant.expiresAt
  return Math.min(grant.refreshUntil ?? Infinity, until)
}
