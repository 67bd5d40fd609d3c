import type { Grant } from "@vedauth/core/Grant"
import * as TokenStore from "@vedauth/core/TokenStore"
import { serverKey } from "@vedauth/core/TokenStoreFormat"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import {
  allowsHttp,
  credentialsGivenHere,
  explicitCaFile,
  locate,
  requireUser,
  saveProfile,
  storedUser,
  storeLayer,
  target,
  targetUser
} from "./context.js"
import { type CliError, errorLine, NotLoggedIn, UsageError } from "./errors.js"
import { keyUserText, profileGrantOwns } from "./grantChoice.js"
import { account, withVedAuth } from "./layer.js"
import { type ProxyChoice, proxyChoice } from "./proxyChoice.js"
import { grantLines, grantSummary, statusLines, statusSummary, tokenInfoLines, tokenInfoSummary } from "./render.js"
import { type Env, sameUser } from "./selection.js"
import type { StorePlace } from "./sharedStore.js"
import type { Flags } from "./spec.js"
import { safeJson, safeText } from "./terminalText.js"

/** A command's work, from its parsed flags, the environment and its operands (see `CommandSpec`). @internal */
export type Run = (flags: Flags, env: Env, operands: ReadonlyArray<string>) => Effect.Effect<void, CliError>

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
    if (selected.passedOver.length > 0) {
      const name = safeText(selected.place.profile.value)
      yield* Console.error(
        `note: not using ${
          selected.passedOver.join(" or ")
        } saved in profile '${name}': a login without --profile uses ` +
          `only what its command line and environment name (name it again, or add --profile ${name} to log in as saved)`
      )
    }
    const user = yield* targetUser(selected)
    if (user === undefined) {
      return yield* new UsageError({
        detail: "login needs a Windows user, DOMAIN\\user or user@domain (--username or VEDAUTH_USERNAME)" +
          (selected.kerberos.options.kerberos?.system === true
            ? "; with --system-kerberos it names the grant, and the system's ticket says who logs in"
            : "")
      })
    }
    const grant = yield* withVedAuth(account(selected, user, flags.passwordStdin === true), VedAuth.login)
    yield* saveProfile(selected, user)
    yield* printGrant(grant, flags.json === true)
  })

/**
 * A valid grant for the selectors, as `token` hands it out (stored, refreshed or re-authorized), and
 * the selectors it was got for; `run` gets its token the same way.
 * @internal
 */
export const validGrant = (flags: Flags, env: Env) =>
  Effect.gen(function*() {
    const selected = yield* target(flags, env, { allowNewProfile: false })
    const { stored, user } = yield* storedUser(selected)
    // With no user given and none stored there is no one to authorize as; with nothing stored
    // (a fresh machine, or after logout) only credentials this call names start a grant.
    if (user === undefined || (!stored && !credentialsGivenHere(selected, flags, env))) {
      return yield* new NotLoggedIn({
        detail: "no grant stored for this server, client, scope and user: run `vedauth login` first " +
          "(or give the password to this call: --password-stdin or VEDAUTH_PASSWORD)"
      })
    }
    const grant = yield* withVedAuth(account(selected, user, flags.passwordStdin === true), VedAuth.grant)
    return { grant, selected }
  })

/** @internal */
export const token: Run = (flags, env) =>
  Effect.gen(function*() {
    const { grant } = yield* validGrant(flags, env)
    const accessToken = Redacted.value(grant.accessToken)
    yield* flags.json === true
      ? Console.log(
        JSON.stringify({
          access_token: accessToken,
          expires: Math.floor(DateTime.toEpochMillis(grant.expiresAt) / 1000)
        })
      )
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
  onStoredGrant(
    flags,
    env,
    Effect.flatMap(Effect.flatMap(storedGrant, VedAuth.refresh), (grant) => printGrant(grant, flags.json === true))
  )

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
        revoked
          ? `revoked: ${safeText(result.reason)}`
          : `not found (already revoked or expired): ${safeText(result.reason)}`
      )
    })
  )

// The profiles whose selectors name a stored grant.
const profilesOf = (entry: TokenStore.Entry, profiles: Readonly<Record<string, Partial<Record<string, string>>>>) =>
  Object.entries(profiles).filter(([, profile]) =>
    profile.url !== undefined && serverKey(profile.url) === entry.key.server &&
    profile.clientId === entry.key.clientId &&
    profile.scope === entry.key.scope &&
    (profile.username === undefined || sameUser(profile.username, entry.key.user)) &&
    profileGrantOwns(profile.grant, entry.key.user)
  ).map(([name]) => name)

/** @internal */
export const status: Run = (flags, env) =>
  Effect.gen(function*() {
    const place = yield* locate(flags, env)
    const entries = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.list).pipe(
      Effect.provide(storeLayer(place))
    )
    const current = place.profiles.current
    const shown = entries.map((entry) => {
      const profiles = profilesOf(entry, place.profiles.profiles)
      return { entry, profiles, current: current !== undefined && profiles.includes(current) }
    })
    if (flags.json === true) {
      return yield* printJson({ store: place.store, currentProfile: current ?? null, grants: shown.map(statusSummary) })
    }
    const now = yield* DateTime.now
    const heading = `token store ${safeText(place.store)}; current profile: ${
      current === undefined ? "none" : safeText(current)
    }`
    yield* Console.log(
      shown.length === 0
        ? `${heading}\nno grants stored: run \`vedauth login\``
        : [heading, ...shown.map((entry) => statusLines(entry, now))].join("\n\n")
    )
  })

/** What became of one grant at `logout`: at the server, and in the store. @internal */
type Revocation = "revoked" | "unknown to the server"

interface LogoutOutcome {
  readonly entry: TokenStore.Entry
  readonly revocation: Revocation | undefined
  readonly removed: boolean
  readonly failure: CliError | undefined
}

const revocationOf = (
  result: VedAuth.RevokeResult
): Revocation => (result._tag === "Revoked" ? "revoked" : "unknown to the server")

// A grant whose access token expired while its refresh token is still good: a revoke with the
// access token finds nothing (VEDauth answers 202), and the refresh token would stay valid.
const renewable = (grant: Grant) =>
  Effect.map(
    DateTime.now,
    (now) =>
      Option.isSome(grant.refreshToken) && DateTime.lessThanOrEqualTo(grant.expiresAt, now) &&
      Option.match(grant.refreshUntil, { onNone: () => true, onSome: (end) => DateTime.greaterThan(end, now) })
  )

// Revokes a stored grant at its server; an expired access token is renewed first, so that the
// refresh token is revoked too rather than left valid with nobody holding it.
const revokeAtServer = (grant: Grant) =>
  Effect.gen(function*() {
    const first = yield* VedAuth.revoke(grant).pipe(
      Effect.map(revocationOf),
      Effect.catchTag("InvalidToken", () => Effect.succeed<Revocation>("unknown to the server"))
    )
    if (first === "revoked" || !(yield* renewable(grant))) return first
    return yield* VedAuth.refresh(grant).pipe(
      Effect.flatMap(VedAuth.revoke),
      Effect.map(revocationOf),
      // The server ended the grant already: nothing is left to revoke.
      Effect.catchTag("InvalidGrant", () => Effect.succeed(first))
    )
  })

// Revokes one stored grant at its server, then removes it from the store. A grant whose revoke
// failed (TLS trust, the server unreachable or slow, an unexpected answer) stays stored, so that
// logout can run again once that is fixed, unless `force` says to remove it anyway.
const logoutOne = (
  entry: TokenStore.Entry,
  place: StorePlace,
  caFile: string | undefined,
  allowHttp: boolean,
  proxy: ProxyChoice,
  force: boolean
) =>
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
    const revoked = yield* Effect.either(withVedAuth(owner, revokeAtServer(entry.grant)))
    const remove = revoked._tag === "Right" || force
    if (remove) {
      yield* Effect.flatMap(TokenStore.TokenStore, (tokens) => tokens.remove(entry.key)).pipe(
        Effect.provide(storeLayer(place))
      )
    }
    return revoked._tag === "Right"
      ? { entry, revocation: revoked.right, removed: true, failure: undefined }
      : { entry, revocation: undefined, removed: remove, failure: revoked.left } satisfies LogoutOutcome
  })

const errorText = (failure: CliError) => errorLine(failure).replace(/^error: /, "")

// One line per grant, on stderr: what happened at the server and in the store.
const logoutLine = ({ entry, failure, removed, revocation }: LogoutOutcome): string => {
  const what = `${keyUserText(entry.key.user)} at ${safeText(entry.key.server)} (${safeText(entry.key.clientId)}, ${
    safeText(entry.key.scope)
  })`
  if (failure === undefined) return `logged out ${what}: ${revocation}, removed from the store`
  return removed
    ? `removed ${what} from the store (--force), but NOT revoked at the server: ${errorText(failure)}`
    : `kept ${what} in the store: NOT revoked at the server: ${errorText(failure)}; ` +
      "run logout again once that is fixed, or add --force to remove it unrevoked"
}

/** @internal */
export const logout: Run = (flags, env) =>
  Effect.gen(function*() {
    const place = yield* locate(flags, env)
    const all = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.list).pipe(
      Effect.provide(storeLayer(place))
    )
    let chosen: ReadonlyArray<TokenStore.Entry> = all
    // The CA a user gives (--ca-file, VEDAUTH_CA_FILE) is trusted for every grant; else each
    // grant's server is trusted as the profile that names it says.
    let caFile = yield* explicitCaFile(flags, env)
    if (flags.all !== true) {
      const selected = yield* target(flags, env, { allowNewProfile: false })
      const user = yield* Effect.flatMap(targetUser(selected), requireUser)
      const wanted = TokenStore.keyString({
        server: selected.url,
        clientId: selected.clientId,
        scope: selected.scope,
        user
      })
      chosen = all.filter((entry) => TokenStore.keyString(entry.key) === wanted)
      if (chosen.length === 0) return yield* new NotLoggedIn()
      caFile = selected.caFile
    }
    const proxy = yield* proxyChoice(flags, env)
    const outcomes = yield* Effect.forEach(chosen, (entry) =>
      logoutOne(
        entry,
        place,
        caFile ?? caFileFor(entry, place.profiles.profiles),
        allowsHttp(flags, env),
        proxy,
        flags.force === true
      ))
    if (flags.json === true) {
      yield* printJson({
        grants: outcomes.map(({ entry, failure, removed, revocation }) => ({
          server: entry.key.server,
          clientId: entry.key.clientId,
          scope: entry.key.scope,
          user: entry.key.user,
          revoked: revocation === "revoked",
          revocation: revocation ?? "failed",
          removed,
          ...(failure === undefined ? {} : { error: errorText(failure) })
        }))
      })
    }
    yield* Console.error(
      outcomes.length === 0 ? "no grants stored: nothing to log out" : outcomes.map(logoutLine).join("\n")
    )
    const failed = outcomes.find((outcome) => outcome.failure !== undefined)
    if (failed !== undefined) return yield* Effect.fail(failed.failure)
  })

const caFileFor = (entry: TokenStore.Entry, profiles: Readonly<Record<string, Partial<Record<string, string>>>>) =>
  Object.values(profiles).find((profile) => profile.url !== undefined && serverKey(profile.url) === entry.key.server)
    ?.caFile
