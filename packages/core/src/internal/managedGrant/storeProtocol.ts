/**
 * The managed grant's protocol on the shared store: functions of the store and the key, run by any
 * process or replica that shares the record. Every write is a compare-and-set over the version
 * read, never a blind `set`, so correctness never rests on the lock's timing:
 *
 * - `spend` marks the refresh token spent in the store before sending it, so no process ever sends
 *   a refresh token twice; a refresh whose request never left puts the pair back.
 * - `save` stores a new pair over the version it came from; on a conflict a fresher record someone
 *   else wrote wins (a late refresh must not undo a newer rotation).
 * - `renewUnderLock` decides, under the store's lock and on a fresh read, what a renewal takes: the
 *   record as it is, a refresh, or an authorize (which it hands to the caller's `authorize`).
 *
 * @internal
 */
import { DateTime, Effect, Option, Redacted } from "effect"
import * as Grant from "../../Grant.js"
import type * as TokenStore from "../../TokenStore.js"
import * as VedAuthError from "../../VedAuthError.js"
import type { Memory } from "./cycler.js"

type Failure = VedAuthError.VedAuthError

/** @internal */
export const sameToken = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>): boolean =>
  Redacted.value(a) === Redacted.value(b)

/**
 * Why a renewal needs a new authorize, and over which record: `none` (nothing stored), `ended`
 * (past `refresh_until`), `spent` (no refresh token: spent by a refresher, possibly one in flight
 * right now, or never given), `refused` (the server refused the refresh token).
 *
 * @internal
 */
export interface AuthorizeNeed {
  readonly why: "none" | "ended" | "spent" | "refused"
  readonly expected: Option.Option<TokenStore.Version>
  readonly current: Option.Option<Grant.Grant>
}

/** What a refresh attempt came to: a new grant, or someone else's record to start over from. */
type Spent =
  | { readonly _tag: "Refreshed"; readonly grant: Grant.Grant; readonly version: TokenStore.Version }
  | { readonly _tag: "Moved"; readonly current: Option.Option<TokenStore.Versioned> }

/**
 * True when a store record is a refresher's mark (no refresh token, access token expired at the
 * mark) made less than `withinMillis` ago: a renewal is, or was lately, in flight somewhere.
 *
 * @internal
 */
export const recentlySpent = (grant: Grant.Grant, nowMillis: number, withinMillis: number): boolean =>
  Option.isNone(grant.refreshToken) && Redacted.value(grant.accessToken) !== "" &&
  grant.expiresAt.epochMillis <= nowMillis && nowMillis - grant.expiresAt.epochMillis < withinMillis

/** True when a refresh failed before its request could reach the server: its refresh token is unspent. */
const neverSent = (error: Failure): boolean => error._tag === "TransportError" && error.requestSent === false

/** @internal */
export interface ProtocolOptions {
  readonly store: TokenStore.Service
  readonly key: TokenStore.Key
  readonly memory: Memory
  readonly refresh: (grant: Grant.Grant) => Effect.Effect<Grant.Grant, Failure>
}

const versionOf = (record: Option.Option<TokenStore.Versioned>) => Option.map(record, (r) => r.version)

/**
 * Writes `grant` over the record at `expected`. On a conflict someone else wrote meanwhile: their
 * record wins while it is fresh, unless `preferOurs` (a login); otherwise ours goes over the
 * version they left. The new pair is in the store before anyone can use it: a crash after the
 * refresh loses nothing. If the store cannot take it, the old pair is already spent at the
 * server: keep the new one in memory so that this process goes on working, say so, then fail.
 * @internal
 */
export const saveWith = ({ key, memory, store }: Omit<ProtocolOptions, "refresh">) =>
(
  expected: Option.Option<TokenStore.Version>,
  grant: Grant.Grant,
  preferOurs = false
): Effect.Effect<Grant.Grant, Failure> => {
  const attempt = (expected: Option.Option<TokenStore.Version>, left: number): Effect.Effect<Grant.Grant, Failure> =>
    Effect.flatMap(
      Effect.zip(store.compareAndSet(key, expected, Option.some(grant)), DateTime.now),
      ([result, now]) => {
        if (result._tag === "Written") return memory.remember(grant)
        const theirs = result.current
        if (!preferOurs && Option.isSome(theirs) && memory.stateAt(theirs.value.grant, now) === "fresh") {
          return Effect.zipRight(
            Effect.logInfo("vedauth: another process stored a newer grant meanwhile; using it"),
            memory.remember(theirs.value.grant)
          )
        }
        const over = versionOf(theirs)
        return left > 0 ? attempt(over, left - 1) : memory.remember(grant, true)
      }
    )
  return attempt(expected, 3).pipe(
    Effect.tapError((error) =>
      Effect.zipRight(
        memory.remember(grant, true),
        Effect.logWarning(
          "vedauth: the new grant could not be saved; this process keeps it in memory only",
          error.message
        )
      )
    )
  )
}

/** @internal */
export const make = ({ key, memory, refresh, store }: ProtocolOptions) => {
  const save = saveWith({ key, memory, store })

  /**
   * Sends the grant's refresh token, marked spent in the store first by compare-and-set over the
   * version read: the stored copy loses its refresh token and its access token counts as expired
   * (the server invalidates it with the rotation). Of two that read the same version only one can
   * write the mark; the other gets `Moved` with the record as it now stands. A refresh that failed
   * before its request left (refused connection, DNS, TLS) spent nothing: the pair is put back over
   * the mark, so that a server down for a moment does not cost the grant.
   */
  const spend = (grant: Grant.Grant, expected: Option.Option<TokenStore.Version>): Effect.Effect<Spent, Failure> =>
    Effect.gen(function*() {
      const now = yield* DateTime.now
      const mark = new Grant.Grant({ ...grant, refreshToken: Option.none(), expiresAt: now })
      const marked = yield* store.compareAndSet(key, expected, Option.some(mark))
      if (marked._tag === "Conflict") return { _tag: "Moved", current: marked.current } as const
      yield* memory.remember(mark)
      const version = Option.getOrElse(versionOf(marked.current), () => "")
      const next = yield* refresh(grant).pipe(
        Effect.tapError((error) => (neverSent(error) ? restore(grant, version) : Effect.void))
      )
      return { _tag: "Refreshed", grant: next, version } as const
    })

  // Puts a pair whose refresh token never left back over its mark (unless someone moved on since).
  const restore = (grant: Grant.Grant, markVersion: TokenStore.Version) =>
    store.compareAndSet(key, Option.some(markVersion), Option.some(grant)).pipe(
      Effect.flatMap((result) => (result._tag === "Written" ? Effect.asVoid(memory.remember(grant)) : memory.forget)),
      Effect.catchAll((error) =>
        Effect.logWarning("vedauth: could not put the unspent grant back in the token store", error.message)
      )
    )

  /**
   * Runs under the store's lock: re-reads the store (another process may have renewed while we
   * waited), then hands out the record, refreshes it, or asks `authorize` (with why). `rejected`
   * is an access token a resource server refused: never handed out again. A record that moved
   * under a compare-and-set is started over from (`rounds` bounds how often).
   */
  const renewUnderLock = <A>(
    rejected: Option.Option<Redacted.Redacted<string>>,
    authorize: (need: AuthorizeNeed) => Effect.Effect<Grant.Grant | A, Failure>
  ): Effect.Effect<Grant.Grant | A, Failure> => {
    const from = (
      stored: Option.Option<TokenStore.Versioned>,
      rounds: number
    ): Effect.Effect<Grant.Grant | A, Failure> =>
      Effect.gen(function*() {
        const now = yield* DateTime.now
        const expected = versionOf(stored)
        const current = newest(Option.map(stored, (r) => r.grant), yield* memory.unsaved)
        if (Option.isNone(current)) return yield* authorize({ why: "none", expected, current })
        const grant = current.value
        const wasRejected = Option.exists(rejected, (token) => sameToken(token, grant.accessToken))
        const state = memory.stateAt(grant, now)
        if (state === "fresh" && !wasRejected) {
          const cached = yield* memory.cached
          // Our unsaved grant stays marked unsaved; one from the store is remembered as seen there.
          return Option.exists(cached, (entry) => entry.grant === grant) ? grant : yield* memory.remember(grant)
        }
        if (state === "ended") return yield* authorize({ why: "ended", expected, current })
        if (!grant.canRefreshAt(now)) return yield* authorize({ why: "spent", expected, current })
        const outcome = yield* spend(grant, expected).pipe(
          Effect.map((spent): Spent | "refused" => spent),
          Effect.catchTag("InvalidGrant", (error) =>
            Effect.as(Effect.logInfo("vedauth: the refresh token was refused", error.message), "refused" as const))
        )
        if (outcome === "refused") {
          // TPP's single-use refresh token is the fence: look at the shared record again before
          // authorizing, someone may have rotated it (then use theirs); otherwise authorize over it.
          const again = yield* store.read(key)
          const moved = Option.isSome(again) && Option.isSome(expected) &&
            !Option.contains(expected, again.value.version) &&
            Option.isSome(again.value.grant.refreshToken)
          if (moved && rounds > 0) {
            return yield* from(again, rounds - 1)
          }
          yield* Effect.logInfo("vedauth: authorizing again")
          return yield* authorize({
            why: "refused",
            expected: versionOf(again),
            current: Option.map(again, (r) =>
              r.grant)
          })
        }
        if (outcome._tag === "Moved") {
          if (rounds > 0) {
            return yield* from(outcome.current, rounds - 1)
          }
          return yield* new VedAuthError.TokenStoreError({ detail: "the stored grant kept changing while renewing it" })
        }
        return yield* save(Option.some(outcome.version), outcome.grant)
      })
    return Effect.flatMap(store.read(key), (stored) => from(stored, 3))
  }

  /**
   * The explicit refresh of a grant the caller holds: through the store's protocol when it is the
   * stored one (so no other process spends it too), else sent as it is.
   */
  const refreshHeld = (held: Grant.Grant) =>
    store.withLock(
      key,
      Effect.gen(function*() {
        const stored = yield* store.read(key)
        if (
          !Option.exists(stored, (record) => sameToken(record.grant.accessToken, held.accessToken))
        ) return yield* refresh(held)
        const outcome = yield* spend(held, versionOf(stored))
        if (outcome._tag === "Refreshed") return yield* save(Option.some(outcome.version), outcome.grant)
        // Someone else marked or rotated it first: this refresh token is theirs to spend, not ours.
        return yield* new VedAuthError.InvalidGrant({
          description:
            "the grant was refreshed or replaced by another process meanwhile; its refresh token is no longer this caller's to spend"
        })
      })
    )

  /** A token was revoked: if it was the stored grant's, drop the record (and this process's copy). */
  const revoked = (token: Redacted.Redacted<string>) =>
    Effect.flatMap(
      store.read(key),
      (stored) =>
        Option.isSome(stored) && sameToken(stored.value.grant.accessToken, token)
          ? Effect.zipRight(store.compareAndSet(key, Option.some(stored.value.version), Option.none()), memory.forget)
          : Effect.void
    )

  return { save, renewUnderLock, refreshHeld, revoked, versionOf }
}

// The grant to renew from: the stored one, unless this process holds a newer one the store failed to save.
const newest = (
  stored: Option.Option<Grant.Grant>,
  unsaved: Option.Option<Grant.Grant>
): Option.Option<Grant.Grant> => {
  if (Option.isNone(unsaved)) return stored
  if (Option.isNone(stored)) return unsaved
  return DateTime.greaterThan(unsaved.value.issuedAt, stored.value.issuedAt) ? unsaved : stored
}

/** @internal */
export type Protocol = ReturnType<typeof make>
