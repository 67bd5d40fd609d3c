import { DateTime, Effect, Option, type Redacted, Ref } from "effect"
import type * as Grant from "../../Grant.js"
import type * as TokenStore from "../../TokenStore.js"
import * as VedAuthError from "../../VedAuthError.js"
import type { Cache, Cached } from "./cache.js"
import type { Password } from "./password.js"
import { sameToken } from "./sameToken.js"

/** What renewals need from the layer. @internal */
export interface RenewalContext {
  readonly store: TokenStore.Service
  readonly key: TokenStore.Key
  readonly cache: Cache
  readonly password: Password
  /** POST authorize/token for this grant's refresh token. */
  readonly exchange: (grant: Grant.Grant) => Effect.Effect<Grant.Grant, VedAuthError.VedAuthError>
  /** An authorize whose grant becomes the stored, managed one. */
  readonly authorizeAndStore: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError>
}

// What `renewLocked` answers when an authorize needs a password that is not at hand.
const needsPassword = Symbol("vedauth/needsPassword")
type NeedsPassword = typeof needsPassword

// The grant to renew from: the stored one, unless this process holds a newer one the store failed to save.
const newest = (stored: Option.Option<Grant.Grant>, cached: Option.Option<Cached>): Option.Option<Grant.Grant> => {
  const unsaved = Option.filter(cached, (entry) => entry.unsaved)
  if (Option.isNone(unsaved)) return stored
  if (Option.isNone(stored)) return Option.some(unsaved.value.grant)
  return DateTime.greaterThan(unsaved.value.grant.issuedAt, stored.value.issuedAt) ? Option.some(unsaved.value.grant) : stored
}

/**
 * The explicit refresh of a grant the caller holds, and the renewal of the managed grant: both
 * under the store's lock.
 *
 * @internal
 */
export const makeRenewal = ({ authorizeAndStore, cache, exchange, key, password, store }: RenewalContext) =>
  Effect.gen(function*() {
    // A refresh token the server refused: the next pass under the lock authorizes without trying it again.
    const spentRefresh = yield* Ref.make(Option.none<Redacted.Redacted<string>>())
    const isSpent = (grant: Grant.Grant) =>
      Effect.map(Ref.get(spentRefresh), (spent) =>
        Option.isSome(spent) && Option.exists(grant.refreshToken, (token) => sameToken(token, spent.value)))

    const isStored = (grant: Grant.Grant) =>
      Effect.map(store.get(key), Option.exists((stored) => sameToken(stored.accessToken, grant.accessToken)))

    const refresh = Effect.fn("VedAuth.refresh")(function*(grant: Grant.Grant) {
      return yield* store.withLock(
        key,
        Effect.gen(function*() {
          const wasStored = yield* isStored(grant)
          const next = yield* exchange(grant)
          return wasStored ? yield* cache.storeAndRemember(next) : next
        })
      )
    })

    // Whether renewing from this grant may take an authorize (and so the password).
    const mayAuthorize = (grant: Option.Option<Grant.Grant>, rejected: Option.Option<Redacted.Redacted<string>>, now: DateTime.Utc) => {
      if (Option.isNone(grant)) return true
      const state = cache.stateAt(grant.value, now)
      const wasRejected = Option.exists(rejected, (token) => sameToken(token, grant.value.accessToken))
      return state === "ended" || ((state === "renew" || wasRejected) && !grant.value.canRefreshAt(now))
    }

    /**
     * Runs under the store's lock: re-reads the store (another process may have renewed while we
     * waited), then refreshes, or re-authorizes when the grant has ended or its refresh token is
     * spent. `rejected` is an access token a resource server refused: never hand it out again.
     * An authorize whose password is not at hand is not run here: `NeedsPassword` sends the caller
     * to get it outside the lock and come back.
     */
    const renewLocked = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function*() {
        const authorizeIfPasswordAtHand = Effect.flatMap(
          password.atHand,
          (atHand): Effect.Effect<Grant.Grant | NeedsPassword, VedAuthError.VedAuthError> =>
            atHand ? authorizeAndStore : Effect.succeed(needsPassword)
        )
        const now = yield* DateTime.now
        const cached = yield* Ref.get(cache.ref)
        const current = newest(yield* store.get(key), cached)
        if (Option.isNone(current)) return yield* authorizeIfPasswordAtHand
        const grant = current.value
        const wasRejected = Option.exists(rejected, (token) => sameToken(token, grant.accessToken))
        const state = cache.stateAt(grant, now)
        if (state === "fresh" && !wasRejected) {
          // Our unsaved grant stays marked unsaved; one from the store is remembered as seen there.
          return Option.exists(cached, (entry) => entry.grant === grant) ? grant : yield* cache.remember(grant)
        }
        if (state === "ended" || !grant.canRefreshAt(now) || (yield* isSpent(grant))) return yield* authorizeIfPasswordAtHand
        return yield* exchange(grant).pipe(
          Effect.flatMap(cache.storeAndRemember),
          Effect.catchTag("InvalidGrant", (error) =>
            Effect.zipRight(
              Effect.zipRight(
                Ref.set(spentRefresh, grant.refreshToken),
                Effect.logInfo("vedauth: the refresh token was refused, authorizing again", error.message)
              ),
              authorizeIfPasswordAtHand
            ))
        )
      })

    const renew = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function*() {
        // A look before the lock: when an authorize is likely, get the password now, not under the lock.
        if (mayAuthorize(newest(yield* store.get(key), yield* Ref.get(cache.ref)), rejected, yield* DateTime.now)) {
          yield* password.resolve
        }
        const first = yield* store.withLock(key, renewLocked(rejected))
        if (first !== needsPassword) return first
        yield* password.resolve
        const second = yield* store.withLock(key, renewLocked(rejected))
        if (second !== needsPassword) return second
        return yield* new VedAuthError.AuthenticationFailed({ description: "the password could not be obtained" })
      })

    return { refresh, renew }
  })
