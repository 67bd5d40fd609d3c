/**
 * `vedauth token` straight from the token store, for the common case scripts hit once per request:
 * a stored access token with plenty of time left. It reads the store's documented, versioned file
 * format with core's Effect-free `TokenStoreFormat` rules and loads neither Effect nor the rest of
 * core; anything it is not sure of (no store, another format, a token in its refresh window,
 * several users, a usage problem) it hands to the full command line, whose managed token
 * refreshes, re-authorizes and explains.
 * @internal
 */
import { freshUntilMillis, keyString, parseKey, parseStore, storeUrlScheme } from "@vedauth/core/TokenStoreFormat"
import { accessSync, constants } from "node:fs"
import { chooseGrant } from "./grantChoice.js"
import { parseCommandLine } from "./parseArgs.js"
import { parseProfiles, profilesPath } from "./profiles.js"
import {
  type Env,
  namedProfileMissing,
  profileName,
  resolveUser,
  select,
  type StoredKey,
  storeLocation
} from "./selection.js"
import { readTrustedFile } from "./trustedFile.js"

interface StoredGrant {
  readonly accessToken: string
  readonly expiresAt: number
  /** Until when the managed token would hand it out as it is (core's `freshUntilMillis`). */
  readonly freshUntil: number
}

// Only a store the full command line would trust, and would not first tighten with a warning, in
// the format core's file store reads (`TokenStoreFormat.parseStore`) with keys it wrote; any doubt
// goes to the full command line, which says what is wrong.
const storedEntries = (path: string): ReadonlyArray<readonly [StoredKey, unknown]> | undefined => {
  const read = readTrustedFile(path)
  if (read._tag !== "Text" || read.readableByOthers) return undefined
  const parsed = parseStore(read.text)
  if (!parsed.ok) return undefined
  const entries: Array<readonly [StoredKey, unknown]> = []
  for (const [text, record] of Object.entries(parsed.value.records)) {
    const key = parseKey(text)
    if (key === undefined) return undefined
    entries.push([key, record.grant])
  }
  return entries
}

const readable = (path: string): boolean => {
  try {
    accessSync(path, constants.R_OK)
    return true
  } catch {
    return false
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null

const instant = (value: unknown): number | undefined => {
  if (typeof value !== "string") return undefined
  const millis = Date.parse(value)
  return Number.isNaN(millis) ? undefined : millis
}

// Printable token text only, as core accepts from the server: nothing that could reach a terminal as a control sequence.
const tokenText = /^[\x21-\x7e]{1,16384}$/

// The stored grant as core's `Grant` schema encodes it (instants as ISO text, `null` for none).
const asGrant = (value: unknown): StoredGrant | undefined => {
  if (!isRecord(value) || typeof value.accessToken !== "string" || !tokenText.test(value.accessToken)) return undefined
  const issuedAt = instant(value.issuedAt)
  const expiresAt = instant(value.expiresAt)
  const refreshUntil = value.refreshUntil === null ? null : instant(value.refreshUntil)
  const refreshToken = value.refreshToken
  if (issuedAt === undefined || expiresAt === undefined || refreshUntil === undefined) return undefined
  if (refreshToken !== null && typeof refreshToken !== "string") return undefined
  const freshUntil = freshUntilMillis({
    issuedAt,
    expiresAt,
    refreshUntil: refreshUntil ?? undefined,
    refreshable: refreshToken !== null
  })
  return { accessToken: value.accessToken, expiresAt, freshUntil }
}

/**
 * What `vedauth token` would print from the store alone, or undefined when the full command line
 * must decide.
 * @internal
 */
export const cachedTokenOutput = (args: ReadonlyArray<string>, env: Env, now: number): string | undefined => {
  const parsed = parseCommandLine(args)
  if (parsed._tag !== "Run" || parsed.command.name !== "token" || parsed.flags.passwordStdin === true) return undefined
  const store = storeLocation(parsed.flags, env)
  if (store === undefined) return undefined
  // A shared store (redis://) is read by the full command line: its records may be sealed, and the
  // Redis client is no lean load.
  if (storeUrlScheme(store.value) !== undefined) return undefined
  const profilesText = readTrustedFile(profilesPath(store.value))
  if (profilesText._tag === "Refused") return undefined
  const profiles = parseProfiles(profilesText._tag === "Text" ? profilesText.text : undefined)
  if (typeof profiles === "string") return undefined
  const name = profileName(parsed.flags, env, profiles)
  // A profile asked for by name that does not exist is a usage error: the full CLI says so.
  if (namedProfileMissing(name, profiles)) return undefined
  const selection = select(parsed.flags, env, store, { name: name.value, value: profiles.profiles[name.value] })
  const { caFile, clientId, scope, url, username } = selection
  // A grant that is not usable as given is a usage error: the full CLI says so.
  const chosen = chooseGrant(parsed.flags, selection)
  if (chosen._tag !== "Choice") return undefined
  if (url === undefined || clientId === undefined || scope === undefined) return undefined
  // A bad CA file is a usage error even when no request would be made: the full CLI says so.
  if (caFile !== undefined && !readable(caFile.value)) return undefined
  const entries = storedEntries(store.value)
  if (entries === undefined) return undefined
  const user = resolveUser(entries.map(([key]) => key), {
    url: url.value,
    clientId: clientId.value,
    scope: scope.value,
    username: username?.value,
    grant: chosen.choice
  })
  if (user._tag !== "User" || user.user === undefined) return undefined
  const wanted = keyString({ server: url.value, clientId: clientId.value, scope: scope.value, user: user.user })
  const entry = entries.find(([key]) => keyString(key) === wanted)
  const grant = entry === undefined ? undefined : asGrant(entry[1])
  // Exactly when the managed token would hand the stored token out without renewing it.
  if (grant === undefined || now >= grant.freshUntil) return undefined
  return parsed.flags.json === true
    ? JSON.stringify({ access_token: grant.accessToken, expires: Math.floor(grant.expiresAt / 1000) }) + "\n"
    : `${grant.accessToken}\n`
}
