import * as NodePath from "@effect/platform-node/NodePath"
import * as TokenStore from "@vedauth/core/TokenStore"
import { serverKey } from "@vedauth/core/TokenStoreFormat"
import * as NodeTokenStoreFiles from "@vedauth/platform-node/NodeTokenStoreFiles"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { accessSync, constants } from "node:fs"
import { resolve as resolvePath } from "node:path"
import { NotLoggedIn, ProfilesError, UsageError } from "./errors.js"
import { targetGrant } from "./grant.js"
import {
  type GrantChoice,
  grantKeyUser,
  grantProfile,
  isGrantKeyUser,
  isGrantName,
  usesPassword
} from "./grantChoice.js"
import { type KerberosTarget, kerberosTarget, noKerberos } from "./kerberos.js"
import { writeOwnFile } from "./ownFile.js"
import { parseProfiles, printProfiles, type Profile, type Profiles, readProfilesText } from "./profiles.js"
import { type ProxyChoice, proxyChoice } from "./proxyChoice.js"
import {
  type Env,
  explicitSelector,
  namedProfileMissing,
  noStoreLocation,
  profileName,
  profileNamed,
  resolveUser,
  sameUser,
  select,
  type Selected,
  type Selection,
  storeLocation
} from "./selection.js"
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
        detail: `no place for the token store: ${noStoreLocation} (--store or VEDAUTH_TOKEN_STORE)`
      })
    }
    const { profilesFile, ...where } = yield* storePlace(store, env)
    const text = yield* Effect.try({
      try: () => readProfilesText(profilesFile),
      catch: (error) =>
        new ProfilesError({
          detail: `cannot read the profiles file: ${error instanceof Error ? error.message : String(error)}`,
          path: profilesFile
        })
    })
    const profiles = parseProfiles(text)
    if (typeof profiles === "string") return yield* new ProfilesError({ detail: profiles, path: profilesFile })
    return { ...where, profilesFile, profiles, profile: profileName(flags, env, profiles) }
  })

/** The store of a place: the file store on Node's file system, or the shared store. @internal */
export const storeLayer = (place: StorePlace) =>
  place.shared === undefined
    ? TokenStore.layerFileSystem({ path: place.store }).pipe(
      Layer.provide(Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer))
    )
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
  /** What a login without --profile did not take from the profile it rewrites (keytab, ...), in words. */
  readonly passedOver: ReadonlyArray<string>
  /** The proxy (--proxy, --no-proxy, VEDAUTH_PROXY, VEDAUTH_NO_PROXY); empty: the library reads HTTPS_PROXY. */
  readonly proxy: ProxyChoice
}

/** --allow-http, else VEDAUTH_ALLOW_HTTP=1. @internal */
export const allowsHttp = (flags: Flags, env: Env): boolean =>
  flags.allowHttp === true || env["VEDAUTH_ALLOW_HTTP"] === "1"

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

/** The CA file given on this call (--ca-file, VEDAUTH_CA_FILE), checked and made absolute. @internal */
export const explicitCaFile = (flags: Flags, env: Env): Effect.Effect<string | undefined, UsageError> => {
  const given = explicitSelector("caFile", flags, env)
  return given === undefined ? Effect.succeed(undefined) : checkCaFile(given)
}

// How a user proves who they are, as a profile remembers it: a `login` without --profile never
// takes these from the profile it rewrites, only from its own command line and environment, so a
// password typed for it is never passed over for a keytab saved by an earlier login.
const secretSources = [
  "keytab",
  "cache",
  "grant",
  "jwtFile",
  "clientCert",
  "clientKey"
] as const satisfies ReadonlyArray<keyof Profile>

const withoutSecretSources = (profile: Profile | undefined): Profile | undefined =>
  profile === undefined
    ? undefined
    : Object.fromEntries(
      Object.entries(profile).filter(([key]) => !(secretSources as ReadonlyArray<string>).includes(key))
    )

// The saved secret sources a login did not use, in words, for the note on stderr.
const passedOver = (
  profile: Profile | undefined,
  grant: GrantChoice,
  kerberos: KerberosTarget
): ReadonlyArray<string> => {
  if (profile === undefined) return []
  const skipped: Array<string> = []
  if (profile.grant !== undefined && profile.grant !== grant.name) skipped.push(`the ${safeText(profile.grant)} grant`)
  else if (profile.jwtFile !== undefined && profile.jwtFile !== grant.jwtFile) skipped.push("the JWT file")
  else if (profile.clientCert !== undefined && profile.clientCert !== grant.clientCert) {
    skipped.push("the client certificate")
  }
  if (profile.keytab !== undefined && profile.keytab !== kerberos.saved.keytab) skipped.push("the keytab")
  if (profile.cache !== undefined && profile.cache !== kerberos.saved.cache) skipped.push("the credential cache")
  return skipped
}

const fromStore = "the one stored grant"

/**
 * With the server, client or scope given nowhere (a machine that shares a store but has no profile),
 * the one stored grant that fits what is given; nothing stored at all is `NotLoggedIn`.
 */
const fillFromStore = (selection: Selection, place: Place, grantName: string) =>
  Effect.gen(function*() {
    const entries = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.list).pipe(
      Effect.provide(storeLayer(place))
    )
    // Nothing given and nothing stored: a fresh machine, not a mistyped command.
    if (
      entries.length === 0 && selection.url === undefined && selection.clientId === undefined &&
      selection.scope === undefined
    ) {
      return yield* new NotLoggedIn({ detail: "no grant is stored: run `vedauth login` first" })
    }
    const name = isGrantName(grantName) ? grantName : "integrated"
    const keyUser = grantKeyUser(name)
    const fits = entries.filter(({ key }) =>
      (selection.url === undefined || key.server === serverKey(selection.url.value)) &&
      (selection.clientId === undefined || key.clientId === selection.clientId.value) &&
      (selection.scope === undefined || key.scope === selection.scope.value) &&
      (keyUser === undefined
        ? !isGrantKeyUser(key.user) &&
          (selection.username === undefined || sameUser(key.user, selection.username.value))
        : key.user === keyUser)
    )
    if (fits.length !== 1) return { selection, stored: fits.length }
    const { key } = fits[0]!
    const filled: Selection = {
      ...selection,
      url: selection.url ?? { value: key.server, from: fromStore },
      clientId: selection.clientId ?? { value: key.clientId, from: fromStore },
      scope: selection.scope ?? { value: key.scope, from: fromStore }
    }
    return { selection: filled, stored: 1 }
  })

/**
 * The selectors of a command: flag, else variable, else profile, else (but for `login`) the one
 * stored grant; the needed ones present, the URL an http(s) URL, the CA file readable. `login`
 * without --profile takes no secret source (keytab, cache, certificate, JWT file) from the profile.
 * @internal
 */
export const target = (flags: Flags, env: Env, options: { readonly allowNewProfile: boolean }) =>
  Effect.gen(function*() {
    const place = yield* locate(flags, env)
    const profile = place.profiles.profiles[place.profile.value]
    if (!options.allowNewProfile && namedProfileMissing(place.profile, place.profiles)) {
      return yield* new UsageError({
        detail: `there is no profile '${safeText(place.profile.value)}': log in with it first (${place.profile.from})`
      })
    }
    const implicitLogin = options.allowNewProfile && !profileNamed(place.profile)
    const saved = implicitLogin ? withoutSecretSources(profile) : profile
    let selection = select(flags, env, { value: place.store, from: "--store" }, {
      name: place.profile.value,
      value: saved
    })
    let stored: number | undefined
    if (
      !options.allowNewProfile &&
      (selection.url === undefined || selection.clientId === undefined || selection.scope === undefined)
    ) {
      ;({ selection, stored } = yield* fillFromStore(selection, place, selection.grant?.value ?? "integrated"))
    }
    if (stored !== undefined && stored > 1) {
      return yield* new UsageError({
        detail:
          `${stored} stored grants fit what is given: pick one, \`vedauth status\` lists them (--url, --client-id or --scope)`
      })
    }
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
    return {
      place,
      url,
      clientId,
      scope,
      username,
      caFile,
      allowHttp: allowsHttp(flags, env),
      kerberos,
      grant,
      passedOver: implicitLogin ? passedOver(profile, grant, kerberos) : [],
      proxy
    } satisfies Target
  })

/**
 * The user whose grant the command is about (see `resolveUser`), and whether a grant is stored for
 * them; several to choose from is a usage error.
 * @internal
 */
export const storedUser = (target: Target) =>
  Effect.gen(function*() {
    const entries = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.list)
    const user = resolveUser(entries.map((entry) => entry.key), target)
    if (user._tag === "Several") {
      return yield* new UsageError({
        detail:
          `${user.users.length} users have grants for this server, client and scope (${
            user.users.map(safeText).join(", ")
          }): ` +
          "pick one (--username or VEDAUTH_USERNAME)"
      })
    }
    const wanted = user.user === undefined
      ? undefined
      : TokenStore.keyString({ server: target.url, clientId: target.clientId, scope: target.scope, user: user.user })
    return { user: user.user, stored: entries.some((entry) => TokenStore.keyString(entry.key) === wanted) }
  }).pipe(Effect.provide(storeLayer(target.place)))

/** The user whose grant the command is about (see `storedUser`). @internal */
export const targetUser = (target: Target) => Effect.map(storedUser(target), ({ user }) => user)

/**
 * True when this call itself says how to prove who the user is: a password (`--password-stdin`,
 * `VEDAUTH_PASSWORD`, or typed at the prompt on this terminal), a keytab or cache by flag or
 * variable, or a grant other than a Windows password by flag or variable. With nothing stored,
 * `token` starts a grant only then: what a profile saved renews a grant, it never starts one (after
 * a logout, say) on its own.
 * @internal
 */
export const credentialsGivenHere = (target: Target, flags: Flags, env: Env): boolean =>
  flags.passwordStdin === true || (env["VEDAUTH_PASSWORD"] ?? "") !== "" || target.kerberos.namedHere ||
  (!usesPassword(target.grant.name) && explicitSelector("grant", flags, env) !== undefined) ||
  (usesPassword(target.grant.name) && !target.kerberos.passwordFree && process.stdin.isTTY === true)

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
        printProfiles({
          current: target.place.profile.value,
          profiles: { ...profiles.profiles, [target.place.profile.value]: profile }
        })
      )
    },
    catch: (error) =>
      new ProfilesError({
        detail: `the grant is stored, but the profile could not be saved: ${
          error instanceof Error ? error.message : String(error)
        }`,
        path: target.place.profilesFile
      })
  })
