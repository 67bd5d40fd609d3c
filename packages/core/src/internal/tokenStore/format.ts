/**
 * The file store's text: `{"format":"vedauth-token-store","version":2,"revision":N,"grants":{KEY:
 * {"version":V,"grant":{...}}}}`. `revision` counts every write to the file and a record's version
 * is the revision that wrote it, so versions only grow, even across a remove and a new set: a
 * compare-and-set can never mistake a new record for the one it read (no ABA). Version 1 files
 * (grants without versions) are read as revision 0 and written back as version 2.
 * @internal
 */
import type { Key } from "../../TokenStore.js"
import type { VersionedData } from "./versioned.js"

/** @internal */
export const fileFormat = "vedauth-token-store"
/** @internal */
export const fileVersion = 2

/** The file's records; each grant stays encoded until it is asked for. @internal */
export type StoreData = VersionedData<unknown>

/** @internal */
export const emptyStore: StoreData = { revision: 0, records: {} }

/** @internal */
export type Parsed<A> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: string }

const refuse = (error: string): Parsed<never> => ({ ok: false, error })
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)
const isCount = (value: unknown): value is number => typeof value === "number" && Number.isSafeInteger(value) && value >= 0

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
 * @internal
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
      `the token store has format version ${String(json.version)}, this vedauth reads versions 1 and ${fileVersion}; refusing to overwrite it`
    )
  }
  if (!isObject(json.grants)) return refuse("the token store has no \"grants\" object; move it aside to start afresh")
  if (json.version === 1) return parseRecords(json.grants, 0, false)
  if (!isCount(json.revision)) return refuse("the token store has no valid \"revision\"; move it aside to start afresh")
  return parseRecords(json.grants, json.revision, true)
}

/** @internal */
export const printStore = (data: StoreData): string =>
  JSON.stringify({ format: fileFormat, version: fileVersion, revision: data.revision, grants: data.records }, null, 2) + "\n"

/**
 * The key a stored text stands for (see `TokenStore.keyString`), or undefined for one we did not write.
 *
 * @internal
 */
export const parseKey = (text: string): Key | undefined => {
  try {
    const parts: unknown = JSON.parse(text)
    if (!Array.isArray(parts) || parts.length !== 4 || !parts.every((part) => typeof part === "string")) return undefined
    const [server, clientId, scope, user] = parts as [string, string, string, string]
    return { server, clientId, scope, user }
  } catch {
    return undefined
  }
}
