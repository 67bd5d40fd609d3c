import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeTokenStoreFiles from "@vedauth/platform-node/NodeTokenStoreFiles"
import * as TokenStore from "@vedauth/core/TokenStore"
import { accessSync, constants } from "node:fs"
import { resolve as resolvePath } from "node:path"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { NotLoggedIn, ProfilesError, UsageError } from "./errors.js"
import { type ProxyChoice, proxyChoice } from "./proxyChoice.js"
import { kerberosTarget, type KerberosTarget, noKerberos } from "./kerberos.js"
import { targetGrant } from "./grant.js"
import { type GrantChoice, grantProfile } from "./grantChoice.js"
import { writeOwnFile } from "./ownFile.js"
import { parseProfiles, type Profile, type Profiles, printProfiles, readProfilesText } from "./profiles.js"
import { type Env, namedProfileMissing, profileName, resolveUser, select, type Selected, type Selection, storeLocation } from "./selection.js"
import { type SharedStore, sharedStoreLayer, type StorePlace, storePlace } from "./sharedStore.js"
import type { Flags } from "./spec.js"
import { safeText } from "./terminalText.js"

/** Where grants and profiles are kept, and the profiles read from there. @internal */
export interface Place {
  /** The store file, or a store URL as it may be shown (no password). */
  readonly store: string
  /** The Redis store when the store is a URL. */
  readonly shared: SharedStore | undefined
  readonly profilesFile: string
  readonly profiles: Profiles
  readonly profile: Selected
}

/** @internal */
export const locate = (flags: Flags, env: Env): Effect.Effect<Place, UsageError | ProfilesError> =>
  Effect.gen(function*() {
    const store = storeLocation(flags, env)
    if (store === undefined) {
      return yield* new UsageError({
        detail: "no place for the token store: HOME and XDG_STATE_HOME are unset (--store or VEDAUTH_TOKEN_STORE)"
      })
    }
    const { profilesFile, ...where } = yield* storePlace(store, env)
    const text = yield* Effect.try({
      try: () => readProfilesText(profilesFile),
      catch: (error) => new ProfilesError({ detail: `cannot read the profiles file: ${error instanceof Error ? error.message : String(error)}`, path: profilesFile })
    })
    const profiles = parseProfiles(text)
    if (typeof profiles === "string") return yield* new ProfilesError({ detail: profiles, path: profilesFile })
    return { ...where, profilesFile, profiles, profile: profileName(flags, env, profiles) }
  })

/** The store of a place: the file store on Node's file system, or the shared store. @internal */
export const storeLayer = (place: StorePlace) =>
  place.shared === undefined
    ? TokenStore.layerFileSystem({ path: place.store }).pipe(Layer.provide(Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer)))
    : sharedStoreLayer(place.shared)

/** The server, integration and scope a command is about, checked, and the user still to resolve. @internal */
export interface Target {
  readonly place: Place
  readonly url: string
  readonly clientId: string
  readonly scope: string
  readonly username: string | undefined
  readonly caFile: string | undefined
  /** Plain http:// to a host that is not loopback was asked for (--allow-http, VEDAUTH_ALLOW_HTTP=1). */
  readonly allowHttp: boolean
  readonly kerberos: KerberosTarget
  /** How to authorize (--grant) and the grant's files. */
  readonly grant: GrantChoice
  /** The proxy (--proxy, --no-proxy, VEDAUTH_PROXY, VEDAUTH_NO_PROXY); empty: the library reads HTTPS_PROXY. */
  readonly proxy: ProxyChoice
}

/** --allow-http, else VEDAUTH_ALLOW_HTTP=1. @internal */
export const allowsHttp = (flags: Flags, env: Env): boolean => flags.allowHttp === true || env["VEDAUTH_ALLOW_HTTP"] === "1"

const describeSelector = { url: "the server URL", clientId: "the client id", scope: "the scope" } as const

const required = (selection: Selection, key: "url" | "clientId" | "scope", flag: string, env: string) =>
  selection[key] === undefined
    ? Effect.fail(new UsageError({ detail: `missing ${describeSelector[key]} (--${flag} or ${env})` }))
    : Effect.succeed(selection[key].value)

const checkUrl = (selected: Selected) => {
  const parsed = URL.canParse(selected.value) ? new URL(selected.value) : undefined
  return parsed !== undefined && (parsed.protocol === "https:" || parsed.protocol === "http:")
    ? Effect.succeed(selected.value)
    : Effect.fail(new UsageError({ detail: `'${safeText(selected.value)}' is not an http(s) URL (${selected.from})` }))
}

const checkCaFile = (selected: Selected) =>
  Effect.try({
    try: () => {
      accessSync(selected.value, constants.R_OK)
      return resolvePath(selected.value)
    },
    catch: () => new UsageError({ detail: `cannot read the CA file '${safeText(selected.value)}' (${selected.from})` })
  })

/**
 * The selectors of a command: flag, else variable, else profile; the needed ones present, the URL
 * an http(s) URL, the CA file readable.
 * @internal
 */
export const target = (flags: Flags, env: Env, options: { readonly allowNewProfile: boolean }) =>
  Effect.gen(function*() {
    const place = yield* locate(flags, env)
    const saved = place.profiles.profiles[place.profile.value]
    if (!options.allowNewProfile && namedProfileMissing(place.profile, place.profiles)) {
      return yield* new UsageError({
        detail: `there is no profile '${safeText(place.profile.value)}': log in with it first (${place.profile.from})`
      })
    }
    const selection = select(flags, env, { value: place.store, from: "--store" }, { name: place.profile.value, value: saved })
    const url = yield* required(selection, "url", "url", "VEDAUTH_URL")
    yield* checkUrl(selection.url!)
    const clientId = yield* required(selection, "clientId", "client-id", "VEDAUTH_CLIENT_ID")
    const scope = yield* required(selection, "scope", "scope", "VEDAUTH_SCOPE")
    const caFile = selection.caFile === undefined ? undefined : yield* checkCaFile(selection.caFile)
    const grant = yield* targetGrant(flags, selection)
    // Kerberos belongs to the integrated grant: the others read none of its settings.
    const kerberos = grant.name === "integrated"
      ? yield* kerberosTarget(flags, env, { name: place.profile.value, value: saved }, selection.username?.value)
      : noKerberos
    // With no user given, the one the credential cache or keytab names.
    const username = selection.username?.value ?? kerberos.principal
    const proxy = yield* proxyChoice(flags, env)
    return { place, url, clientId, scope, username, caFile, allowHttp: allowsHttp(flags, env), kerberos, grant, proxy } satisfies Target
  })

/**
 * The user whose grant the command is about (see `resolveUser`); several to choose from is a usage error.
 * @internal
 */
export const targetUser = (target: Target) =>
  Effect.gen(function*() {
    const entries = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.list)
    const user = resolveUser(entries.map((entry) => entry.key), target)
    if (user._tag === "Several") {
      return yield* new UsageError({
        detail: `${user.users.length} users have grants for this server, client and scope (${user.users.map(safeText).join(", ")}): ` +
          "pick one (--username or VEDAUTH_USERNAME)"
      })
    }
    return user.user
  }).pipe(Effect.provide(storeLayer(target.place)))

/** No user given and none stored: nothing to act on. @internal */
export const requireUser = (user: string | undefined) =>
  user === undefined ? Effect.fail(new NotLoggedIn()) : Effect.succeed(user)

/**
 * Saves the selectors a login used as its profile and makes it current.
 * @internal
 */
export const saveProfile = (target: Target, user: string) =>
  Effect.try({
    try: () => {
      const profile: Profile = {
        url: target.url,
        clientId: target.clientId,
        scope: target.scope,
        ...grantProfile(target.grant, user),
        ...(target.caFile === undefined ? {} : { caFile: target.caFile }),
        ...target.kerberos.saved
      }
      const profiles = target.place.profiles
      writeOwnFile(
        target.place.profilesFile,
        printProfiles({ current: target.place.profile.value, profiles: { ...profiles.profiles, [target.place.profile.value]: profile } })
      )
    },
    catch: (error) =>
      new ProfilesError({
        detail: `the grant is stored, but the profile could not be saved: ${error instanceof Error ? error.message : String(error)}`,
        path: target.place.profilesFile
      })
  })
