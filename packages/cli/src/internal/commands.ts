import type { Grant } from "@vedauth/core/Grant"
import * as TokenStore from "@vedauth/core/TokenStore"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { account, withVedAuth } from "./layer.js"
import { type ProxyChoice, proxyChoice } from "./proxyChoice.js"
import { allowsHttp, locate, requireUser, saveProfile, storeLayer, target, targetUser } from "./context.js"
import { errorLine, NotLoggedIn, UsageError } from "./errors.js"
import { grantLines, grantSummary, statusLines, statusSummary, tokenInfoLines, tokenInfoSummary } from "./render.js"
import { profileGrantOwns } from "./grantChoice.js"
import { type Env, sameUser, serverKey } from "./selection.js"
import type { StorePlace } from "./sharedStore.js"
import type { Flags } from "./spec.js"
import { safeJson, safeText } from "./terminalText.js"

/** A command's work, from its parsed flags and the environment. @internal */
export type Run = (flags: Flags, env: Env) => Effect.Effect<void, unknown>

const printJson = (value: unknown) => Console.log(safeJson(value))

// `login` and `refresh` show the grant they got the same way, without its tokens.
const printGrant = (grant: Grant, json: boolean) =>
  json ? printJson(grantSummary(grant)) : Effect.flatMap(DateTime.now, (now) => Console.log(grantLines(grant, now)))

// The stored grant, or a clear word that there is none yet.
const storedGrant = Effect.flatMap(
  VedAuth.stored,
  Option.match({ onNone: () => Effect.fail(new NotLoggedIn()), onSome: Effect.succeed })
)

// A command on the one stored grant the selectors name.
const onStoredGrant = <A, E>(flags: Flags, env: Env, effect: Effect.Effect<A, E, VedAuth.VedAuth>) =>
  Effect.gen(function*() {
    const selected = yield* target(flags, env, { allowNewProfile: false })
    const user = yield* Effect.flatMap(targetUser(selected), requireUser)
    return yield* withVedAuth(account(selected, user), effect)
  })

/** @internal */
export const login: Run = (flags, env) =>
  Effect.gen(function*() {
    const selected = yield* target(flags, env, { allowNewProfile: true })
    const user = yield* targetUser(selected)
    if (user === undefined) {
      return yield* new UsageError({ detail: "login needs a Windows user, DOMAIN\\user or user@domain (--username or VEDAUTH_USERNAME)" })
    }
    const grant = yield* withVedAuth(account(selected, user, flags.passwordStdin === true), VedAuth.login)
    yield* saveProfile(selected, user)
    yield* printGrant(grant, flags.json === true)
  })

/** @internal */
export const token: Run = (flags, env) =>
  Effect.gen(function*() {
    const selected = yield* target(flags, env, { allowNewProfile: false })
    const user = yield* targetUser(selected)
    // With no user given and none stored there is no one to authorize as.
    if (user === undefined) return yield* new NotLoggedIn()
    const grant = yield* withVedAuth(account(selected, user, flags.passwordStdin === true), VedAuth.grant)
    const accessToken = Redacted.value(grant.accessToken)
    yield* flags.json === true
      ? Console.log(JSON.stringify({ access_token: accessToken, expires: Math.floor(DateTime.toEpochMillis(grant.expiresAt) / 1000) }))
      : Console.log(accessToken)
  })

/** @internal */
export const verify: Run = (flags, env) =>
  onStoredGrant(
    flags,
    env,
    Effect.gen(function*() {
      const info = yield* VedAuth.verify((yield* storedGrant).accessToken)
      yield* flags.json === true ? printJson(tokenInfoSummary(info)) : Console.log(tokenInfoLines(info))
    })
  )

/** @internal */
export const refresh: Run = (flags, env) =>
  onStoredGrant(flags, env, Effect.flatMap(Effect.flatMap(storedGrant, VedAuth.refresh), (grant) => printGrant(grant, flags.json === true)))

/** @internal */
export const revoke: Run = (flags, env) =>
  onStoredGrant(
    flags,
    env,
    Effect.gen(function*() {
      const result = yield* VedAuth.revoke(yield* storedGrant)
      const revoked = result._tag === "Revoked"
      if (flags.json === true) return yield* printJson({ revoked, reason: result.reason })
      yield* Console.log(
        revoked ? `revoked: ${safeText(result.reason)}` : `not found (already revoked or expired): ${safeText(result.reason)}`
      )
    })
  )

// The profiles whose selectors name a stored grant.
const profilesOf = (entry: TokenStore.Entry, profiles: Readonly<Record<string, Partial<Record<string, string>>>>) =>
  Object.entries(profiles).filter(([, profile]) =>
    profile.url !== undefined && serverKey(profile.url) === entry.key.server && profile.clientId === entry.key.clientId &&
    profile.scope === entry.key.scope && (profile.username === undefined || sameUser(profile.username, entry.key.user)) &&
    profileGrantOwns(profile.grant, entry.key.user)
  ).map(([name]) => name)

/** @internal */
export const status: Run = (flags, env) =>
  Effect.gen(function*() {
    const place = yield* locate(flags, env)
    const entries = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.list).pipe(Effect.provide(storeLayer(place)))
    const current = place.profiles.current
    const shown = entries.map((entry) => {
      const profiles = profilesOf(entry, place.profiles.profiles)
      return { entry, profiles, current: current !== undefined && profiles.includes(current) }
    })
    if (flags.json === true) {
      return yield* printJson({ store: place.store, currentProfile: current ?? null, grants: shown.map(statusSummary) })
    }
    const now = yield* DateTime.now
    const heading = `token store ${safeText(place.store)}; current profile: ${current === undefined ? "none" : safeText(current)}`
    yield* Console.log(
      shown.length === 0
        ? `${heading}\nno grants stored: run \`vedauth login\``
        : [heading, ...shown.map((entry) => statusLines(entry, now))].join("\n\n")
    )
  })

interface LogoutOutcome {
  readonly entry: TokenStore.Entry
  readonly revoked: "revoked" | "unknown to the server" | undefined
  readonly failure: unknown
}

// Revokes one stored grant at its server and removes it from the store, whatever the server said.
const logoutOne = (entry: TokenStore.Entry, place: StorePlace, caFile: string | undefined, allowHttp: boolean, proxy: ProxyChoice) =>
  Effect.gen(function*() {
    const owner = {
      url: entry.key.server,
      clientId: entry.key.clientId,
      scope: entry.key.scope,
      username: entry.key.user,
      caFile,
      store: place.store,
      shared: place.shared,
      passwordStdin: false,
      allowHttp,
      proxy
    }
    // Revoking never authorizes: no password is asked for.
    const revoked = yield* withVedAuth(owner, VedAuth.revoke(entry.grant)).pipe(
      Effect.map((result) => (result._tag === "Revoked" ? "revoked" as const : "unknown to the server" as const)),
      Effect.either
    )
    yield* Effect.flatMap(TokenStore.TokenStore, (tokens) => tokens.remove(entry.key)).pipe(Effect.provide(storeLayer(place)))
    return revoked._tag === "Right"
      ? { entry, revoked: revoked.right, failure: undefined }
      : { entry, revoked: undefined, failure: revoked.left } satisfies LogoutOutcome
  })

/** @internal */
export const logout: Run = (flags, env) =>
  Effect.gen(function*() {
    const place = yield* locate(flags, env)
    const all = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.list).pipe(Effect.provide(storeLayer(place)))
    let chosen: ReadonlyArray<TokenStore.Entry> = all
    let caFile: string | undefined
    if (flags.all !== true) {
      const selected = yield* target(flags, env, { allowNewProfile: false })
      const user = yield* Effect.flatMap(targetUser(selected), requireUser)
      const wanted = TokenStore.keyString({ server: selected.url, clientId: selected.clientId, scope: selected.scope, user })
      chosen = all.filter((entry) => TokenStore.keyString(entry.key) === wanted)
      if (chosen.length === 0) return yield* new NotLoggedIn()
      caFile = selected.caFile
    }
    const proxy = yield* proxyChoice(flags, env)
    const outcomes = yield* Effect.forEach(chosen, (entry) => logoutOne(entry, place, caFile ?? caFileFor(entry, place.profiles.profiles), allowsHttp(flags, env), proxy))
    if (flags.json === true) {
      yield* printJson({
        grants: outcomes.map(({ entry, failure, revoked }) => ({
          server: entry.key.server,
          clientId: entry.key.clientId,
          scope: entry.key.scope,
          user: entry.key.user,
          revoked: revoked === "revoked",
          removed: true,
          ...(failure === undefined ? {} : { error: errorLine(failure).line.replace(/^error: /, "") })
        }))
      })
    } else {
      const lines = outcomes.map(({ entry, failure, revoked }) => {
        const what = `${safeText(entry.key.user)} at ${safeText(entry.key.server)} (${safeText(entry.key.clientId)}, ${safeText(entry.key.scope)})`
        return failure === undefined
          ? `logged out ${what}: ${revoked}, removed from the store`
          : `removed ${what} from the store, but NOT revoked at the server: ${errorLine(failure).line.replace(/^error: /, "")}`
      })
      yield* Console.log(lines.length === 0 ? "no grants stored: nothing to log out" : lines.join("\n"))
    }
    const failed = outcomes.find((outcome) => outcome.failure !== undefined)
    if (failed !== undefined) return yield* Effect.fail(failed.failure)
  })

const caFileFor = (entry: TokenStore.Entry, profiles: Readonly<Record<string, Partial<Record<string, string>>>>) =>
  Object.values(profiles).find((profile) => profile.url !== undefined && serverKey(profile.url) === entry.key.server)?.caFile

