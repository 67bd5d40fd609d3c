import { Clock, DateTime, Effect, Option, Ref } from "effect"
import type * as Grant from "../../Grant.js"
import type * as TokenStore from "../../TokenStore.js"
import type * as VedAuthError from "../../VedAuthError.js"
import { type Cache, type Cached, cacheCheckMillis } from "./cache.js"
import { sameToken } from "./sameToken.js"

/** What the managed grant needs from the layer. @internal */
export interface ManagedContext {
  readonly store: TokenStore.Service
  readonly key: TokenStore.Key
  readonly cache: Cache
  /** The renewal of a stale grant, shared by every fiber that asks while it runs. */
  readonly renewStale: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError>
}

/**
 * The managed grant: from memory while fresh, else from the store, else renewed.
 *
 * @internal
 */
export const makeManagedGrant = ({ cache, key, renewStale, store }: ManagedContext) => {
  /**
   * Whether the cached grant is still the one to use, after `cacheCheckMillis`: another process
   * may have rotated the grant (the CLI's refresh, a replica after a 401), which kills our token.
   * `None` sends the caller to the store and a renewal.
   */
  const recheck = (cached: Cached, now: DateTime.Utc) =>
    store.get(key).pipe(
      Effect.flatMap((stored): Effect.Effect<Option.Option<Grant.Grant>> => {
        if (Option.isNone(stored)) return Effect.succeed(cached.unsaved ? Option.some(cached.grant) : Option.none())
        if (sameToken(stored.value.accessToken, cached.grant.accessToken) || !DateTime.greaterThanOrEqualTo(stored.value.issuedAt, cached.grant.issuedAt)) {
          // Still ours, or older than ours (ours failed to save): keep it, look again later.
          return Effect.as(Ref.set(cache.ref, Option.some({ ...cached, checkedAt: now.epochMillis })), Option.some(cached.grant))
        }
        return cache.stateAt(stored.value, now) === "fresh" ? Effect.map(cache.remember(stored.value), Option.some) : Effect.succeedNone
      }),
      // A store that cannot be read right now does not make the cached token any worse.
      Effect.catchAll((error) =>
        Effect.as(Effect.logDebug("vedauth: could not re-read the token store", error.message), Option.some(cached.grant))
      )
    )

  // Everything past the in-memory cache: the store, and a renewal when the grant is stale.
  const managedGrantSlow = (now: DateTime.Utc, cached: Option.Option<Cached>) =>
    Effect.gen(function*() {
      if (Option.isSome(cached) && cache.stateAt(cached.value.grant, now) === "fresh") {
        const checked = yield* recheck(cached.value, now)
        if (Option.isSome(checked)) return checked.value
      }
      const stored = yield* store.get(key)
      if (Option.isSome(stored) && cache.stateAt(stored.value, now) === "fresh") return yield* cache.remember(stored.value)
      return yield* renewStale
    }).pipe(Effect.withSpan("VedAuth.grant"))

  // The hot path is a Ref read and a clock read, with no span: a span captures a stack trace and
  // would cost more than the rest of the call. Spans start where I/O may happen.
  const managedGrant: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError> = Effect.flatMap(
    Effect.zip(Clock.currentTimeMillis, Ref.get(cache.ref)),
    ([now, cached]) =>
      Option.isSome(cached) && now - cached.value.checkedAt < cacheCheckMillis && now < cached.value.freshUntil
        ? Effect.succeed(cached.value.grant)
        : managedGrantSlow(DateTime.unsafeMake(now), cached)
  )

  return managedGrant
}
