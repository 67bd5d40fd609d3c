/**
 * `vedauth token` straight from the token store, for the common case scripts hit once per request:
 * a stored access token with plenty of time left. It reads the store's documented, versioned file
 * format with plain JSON and loads neither Effect nor the core library; anything it is not sure
 * of (no store, another format, a token near its refresh window, several users, a usage problem)
 * it hands to the full command line, whose managed token refreshes, re-authorizes and explains.
 * @internal
 */
import { accessSync, constants } from "node:fs"
import { chooseGrant } from "./grantChoice.js"
import { parseCommandLine } from "./parseArgs.js"
import { parseProfiles, profilesPath } from "./profiles.js"
import { storeUrlScheme } from "./sharedStoreAddress.js"
import { readTrustedFile } from "./trustedFile.js"
import { namedProfileMissing, profileName, resolveUser, select, type Env, storeLocation, type StoredKey } from "./selection.js"

// The store format the lean path reads (core's `TokenStore.layerFileSystem`, format version 2:
// `grants` maps each key to `{ version, grant }`).
const storeFormat = "vedauth-token-store"
const storeVersion = 2

// Longer than any refresh window core picks on its own (at most 5 minutes): a token the lean path
// hands out is one the managed token would hand out too.
const margin = 5 * 60 * 1000 + 1000

interface StoredGrant {
  readonly accessToken: string
  readonly expiresAt: number
  readonly refreshUntil: number | null
}

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// Only a store the full command line would trust, and would not first tighten with a warning; any
// doubt goes to the full command line, which says what is wrong.
const readStore = (path: string): unknown => {
  const read = readTrustedFile(path)
  return read._tag === "Text" && !read.readableByOthers ? parseJson(read.text) : undefined
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

const storedEntries = (path: string): ReadonlyArray<readonly [StoredKey, unknown]> | undefined => {
  const file = readStore(path)
  if (!isRecord(file) || file.format !== storeFormat || file.version !== storeVersion || !isRecord(file.grants)) return undefined
  const entries: Array<readonly [StoredKey, unknown]> = []
  for (const [text, grant] of Object.entries(file.grants)) {
    const parts = parseJson(text)
    if (!Array.isArray(parts) || parts.length !== 4 || !parts.every((part) => typeof part === "string")) return undefined
    const [server, clientId, scope, user] = parts as [string, string, string, string]
    entries.push([{ server, clientId, scope, user }, isRecord(grant) ? grant.grant : undefined])
  }
  return entries
}

const instant = (value: unknown): number | undefined => {
  if (typeof value !== "string") return undefined
  const millis = Date.parse(value)
  return Number.isNaN(millis) ? undefined : millis
}

// Printable token text only, as core accepts from the server: nothing that could reach a terminal as a control sequence.
const tokenText = /^[\x21-\x7e]{1,16384}$/

const asGrant = (value: unknown): StoredGrant | undefined => {
  if (!isRecord(value) || typeof value.accessToken !== "string" || !tokenText.test(value.accessToken)) return undefined
  const expiresAt = instant(value.expiresAt)
  const refreshUntil = value.refreshUntil === null ? null : instant(value.refreshUntil)
  if (expiresAt === undefined || refreshUntil === undefined) return undefined
  return { accessToken: value.accessToken, expiresAt, refreshUntil }
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
  const wanted = JSON.stringify([url.value.toLowerCase().replace(/\/+$/, ""), clientId.value, scope.value, user.user.toLowerCase()])
  const entry = entries.find(([key]) => JSON.stringify([key.server, key.clientId, key.scope, key.user]) === wanted)
  const grant = entry === undefined ? undefined : asGrant(entry[1])
  if (grant === undefined || grant.expiresAt - now < margin || (grant.refreshUntil !== null && grant.refreshUntil <= now)) {
    return undefined
  }
  return parsed.flags.json === true
    ? JSON.stringify({ access_token: grant.accessToken, expires: Math.floor(grant.expiresAt / 1000) }) + "\n"
    : `${grant.accessToken}\n`
}
