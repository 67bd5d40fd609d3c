/**
 * Which server, integration, scope and user a command is about: each selector from its flag, else
 * its environment variable, else the profile; and where the token store is. Plain code, no Effect:
 * the lean `token` path uses it too.
 * @internal
 */
import { defaultLocation, locationVariables, serverKey } from "@vedauth/core/TokenStoreFormat"
import { join } from "node:path"
import { type GrantChoice, grantKeyUser, isGrantKeyUser } from "./grantChoice.js"
import { grantProfileKeys, type Profile, type Profiles } from "./profiles.js"
import { type Flags, options, type SelectorKey } from "./spec.js"

/** A selector's value and where it came from, for error messages: `--url`, `VEDAUTH_URL`, `profile work`. @internal */
export interface Selected {
  readonly value: string
  readonly from: string
}

/** @internal */
export type Selection = Partial<Record<SelectorKey, Selected>>

/** @internal */
export type Env = Readonly<Record<string, string | undefined>>

const nonEmpty = (value: unknown): string | undefined => (typeof value === "string" && value !== "" ? value : undefined)

/** Flag, else variable: the selectors given explicitly. @internal */
export const explicitSelector = (key: SelectorKey, flags: Flags, env: Env): Selected | undefined => {
  const spec = options[key]
  const flag = nonEmpty(flags[key])
  if (flag !== undefined) return { value: flag, from: `--${spec.flag}` }
  const variable = spec.env === undefined ? undefined : nonEmpty(env[spec.env])
  return variable === undefined || spec.env === undefined ? undefined : { value: variable, from: spec.env }
}

/**
 * Where the token store is: `--store`, `VEDAUTH_TOKEN_STORE`, else core's default location
 * (`TokenStoreFormat.defaultLocation`: under `XDG_STATE_HOME`, `HOME` or `LOCALAPPDATA`), else undefined.
 * @internal
 */
export const storeLocation = (flags: Flags, env: Env): Selected | undefined => {
  const explicit = explicitSelector("store", flags, env)
  if (explicit !== undefined) return explicit
  const location = defaultLocation((name) => env[name])
  return location === undefined ? undefined : { value: join(...location.segments), from: location.variable }
}

/** Why `storeLocation` found no place, for messages: "none of XDG_STATE_HOME, HOME, LOCALAPPDATA is set". @internal */
export const noStoreLocation = `none of ${locationVariables.join(", ")} is set`

/** The profile a command uses: `--profile`, `VEDAUTH_PROFILE`, else the current one, else "default". @internal */
export const profileName = (flags: Flags, env: Env, profiles: Profiles): Selected => {
  const explicit = explicitSelector("profile", flags, env)
  if (explicit !== undefined) return explicit
  return profiles.current === undefined
    ? { value: "default", from: "the default profile" }
    : { value: profiles.current, from: "the current profile" }
}

/** True when the profile was asked for by name (--profile, VEDAUTH_PROFILE). @internal */
export const profileNamed = (name: Selected): boolean =>
  name.from !== "the default profile" && name.from !== "the current profile"

/** True when the profile was asked for by name (flag or variable) and there is none such. @internal */
export const namedProfileMissing = (name: Selected, profiles: Profiles): boolean =>
  profiles.profiles[name.value] === undefined && profileNamed(name)

/**
 * Every selector: flag, else variable, else the profile's value.
 * @internal
 */
export const select = (
  flags: Flags,
  env: Env,
  store: Selected,
  profile: { readonly name: string; readonly value: Profile | undefined }
): Selection => {
  const selection: Partial<Record<SelectorKey, Selected>> = {
    store,
    profile: { value: profile.name, from: "--profile" }
  }
  for (const key of grantProfileKeys) {
    const explicit = explicitSelector(key, flags, env)
    const saved = profile.value?.[key]
    const value = explicit ?? (saved === undefined ? undefined : { value: saved, from: `profile ${profile.name}` })
    if (value !== undefined) selection[key] = value
  }
  return selection
}

// As `NtlmTransport.parseUser` in core: `DOMAIN\user` or `user@domain`.
const userParts = (user: string): { readonly domain: string; readonly name: string } => {
  const backslash = user.indexOf("\\")
  if (backslash !== -1) return { domain: user.slice(0, backslash), name: user.slice(backslash + 1) }
  const at = user.lastIndexOf("@")
  if (at !== -1) return { domain: user.slice(at + 1), name: user.slice(0, at) }
  return { domain: "", name: user }
}

/**
 * True when two spellings name the same Windows account: `CORP\alice`, `corp\Alice` and `alice@corp`
 * do; `alice@corp.example.com` does not match `CORP\alice` (a DNS and a NetBIOS domain name cannot
 * be told equal without asking the domain).
 * @internal
 */
export const sameUser = (a: string, b: string): boolean => {
  const x = userParts(a.toLowerCase())
  const y = userParts(b.toLowerCase())
  return x.name === y.name && x.domain === y.domain
}

/** The stored keys' users for one server, client and scope. @internal */
export interface StoredKey {
  readonly server: string
  readonly clientId: string
  readonly scope: string
  readonly user: string
}

/**
 * The user whose grant a command is about: the given one, spelled as it is stored when a stored
 * grant is the same account; with no user given, the single stored grant's user for this server,
 * client and scope. `several` when there are more to choose from.
 * @internal
 */
export const resolveUser = (
  keys: ReadonlyArray<StoredKey>,
  wanted: {
    readonly url: string
    readonly clientId: string
    readonly scope: string
    readonly username: string | undefined
    readonly grant?: Pick<GrantChoice, "name">
  }
): { readonly _tag: "User"; readonly user: string | undefined } | {
  readonly _tag: "Several"
  readonly users: ReadonlyArray<string>
} => {
  // The certificate, JWT and device grants are stored under the grant's name, not a Windows user.
  const keyUser = grantKeyUser(wanted.grant?.name ?? "integrated")
  if (keyUser !== undefined) return { _tag: "User", user: keyUser }
  const server = serverKey(wanted.url)
  const candidates = keys.filter((key) =>
    key.server === server && key.clientId === wanted.clientId && key.scope === wanted.scope && !isGrantKeyUser(key.user)
  )
  if (wanted.username !== undefined) {
    const stored = candidates.find((key) => sameUser(key.user, wanted.username!))
    return { _tag: "User", user: stored?.user ?? wanted.username }
  }
  if (candidates.length === 1) return { _tag: "User", user: candidates[0]!.user }
  if (candidates.length === 0) return { _tag: "User", user: undefined }
  return { _tag: "Several", users: candidates.map((key) => key.user) }
}
