/**
 * Profiles: the selectors a `login` used, saved under a name beside the token store, and which one
 * is current. Later commands with no selectors use the current profile, as `gh` and kubectl
 * contexts do. Plain code on node:fs, no Effect: the lean `token` path reads it too.
 * @internal
 */
import { dirname, join } from "node:path"
import { type KerberosProfileKey, kerberosProfileKeys } from "./kerberosKeys.js"
import type { SelectorKey } from "./spec.js"
import { readTrustedFile } from "./trustedFile.js"

/** What a profile remembers: everything but the store (the profiles live beside it) and the name. @internal */
export type ProfileKey = Exclude<SelectorKey, "store" | "profile"> | KerberosProfileKey

/** @internal */
export type Profile = Partial<Record<ProfileKey, string>>

/** @internal */
export interface Profiles {
  readonly current: string | undefined
  readonly profiles: Readonly<Record<string, Profile>>
}

/** @internal */
export const profilesFormat = "vedauth-cli-profiles"

/** The keys that say which server, client and grant (the Kerberos ones are selected apart). @internal */
export const grantProfileKeys = [
  "url",
  "clientId",
  "scope",
  "username",
  "caFile",
  "grant",
  "jwtFile",
  "clientCert",
  "clientKey"
] as const

/** @internal */
export const profileKeys: ReadonlyArray<ProfileKey> = [
  ...grantProfileKeys,
  ...kerberosProfileKeys
]

/** The profiles file of a token store: `profiles.json` in the same folder. @internal */
export const profilesPath = (storePath: string): string => join(dirname(storePath), "profiles.json")

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * Parses the profiles file; a missing file is no profiles. Anything else that is not our format is
 * an error (a string saying what is wrong), never silently replaced.
 * @internal
 */
export const parseProfiles = (text: string | undefined): Profiles | string => {
  if (text === undefined) return { current: undefined, profiles: {} }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return "the profiles file is not JSON; move it aside to start afresh"
  }
  if (!isRecord(json) || json.format !== profilesFormat || json.version !== 1 || !isRecord(json.profiles)) {
    return `the profiles file is not a vedauth profiles file (format "${profilesFormat}", version 1); refusing to use it`
  }
  const profiles: Record<string, Profile> = {}
  for (const [name, value] of Object.entries(json.profiles)) {
    if (!isRecord(value)) return `profile '${name}' in the profiles file is not an object`
    const profile: Profile = {}
    for (const key of profileKeys) {
      const field = value[key]
      if (typeof field === "string" && field !== "") profile[key] = field
    }
    profiles[name] = profile
  }
  return { current: typeof json.current === "string" ? json.current : undefined, profiles }
}

/**
 * The file's text, or undefined when there is none yet. Read by the token store's trust rules: a
 * profile names the server a password is sent to, so one another user could have planted is refused.
 * @internal
 */
export const readProfilesText = (path: string): string | undefined => {
  const read = readTrustedFile(path)
  switch (read._tag) {
    case "Text":
      return read.text
    case "Missing":
      return undefined
    case "Refused":
      throw new Error(`${read.reason}; fix it or remove the file`)
  }
}

/** The text `login` writes. @internal */
export const printProfiles = (profiles: Profiles): string =>
  JSON.stringify(
    { format: profilesFormat, version: 1, current: profiles.current, profiles: profiles.profiles },
    null,
    2
  ) + "\n"
