import { Clock, type DateTime, type Duration, Effect, Option, Ref } from "effect"
import type * as Grant from "../../Grant.js"
import type * as TokenStore from "../../TokenStore.js"
import { freshness, type Freshness, freshUntilMillis } from "../freshness.js"

/**
 * How long a cached grant is handed out before the store is looked at again (to see a rotation by
 * another process): short enough that a dead token is noticed promptly, long enough that the hot
 * path is a Ref read and a clock read.
 *
 * @internal
 */
export const cacheCheckMillis = 5_000

/** @internal */
export interface Cached {
  readonly grant: Grant.Grant
  /** Clock millis when the grant was last seen to match the store (or put there). */
  readonly checkedAt: number
  /** Clock millis until which the grant is fresh (see `freshUntilMillis`). */
  readonly freshUntil: number
  /** The store failed to save it: the store's copy is older, or missing. */
  readonly unsaved: boolean
}

/** What the cache needs from the layer. @internal */
export interface CacheContext {
  readonly store: TokenStore.Service
  readonly key: TokenStore.Key
  readonly refreshWindow: Duration.DurationInput | undefined
}

/**
 * The last grant this process saw, when it last matched the store, and whether the store failed
 * to save it. A fresh one is handed out without touching the store for `cacheCheckMillis`.
 *
 * @internal
 */
export const makeCache = ({ key, refreshWindow, store }: CacheContext) =>
  Effect.gen(function*() {
    const ref = yield* Ref.make(Option.none<Cached>())

    // The freshness of a grant under the layer's refresh window, the one `freshUntil` is computed with.
    const stateAt = (grant: Grant.Grant, now: DateTime.Utc): Freshness => freshness(grant, now, refreshWindow)

    const rememberAs = (unsaved: boolean) => (grant: Grant.Grant) =>
      Effect.flatMap(Clock.currentTimeMillis, (checkedAt) =>
        Effect.as(
          Ref.set(ref, Option.some({ grant, checkedAt, unsaved, freshUntil: freshUntilMillis(grant, refreshWindow) })),
          grant
        ))
    const remember = rememberAs(false)
    // The new pair is in the store before anyone can use it: a crash after the refresh loses nothing.
    // If the store cannot take it, the old pair is already spent at the server: keep the new one in
    // memory so that this process goes on working, and say so, then fail.
    const storeAndRemember = (grant: Grant.Grant) =>
      store.set(key, grant).pipe(
        Effect.tapError((error) =>
          Effect.zipRight(
            rememberAs(true)(grant),
            Effect.logWarning("vedauth: the new grant could not be saved; this process keeps it in memory only", error.message)
          )
        ),
        Effect.zipRight(remember(grant))
      )

    return { ref, stateAt, remember, storeAndRemember }
  })

/** @internal */
export type Cache = Effect.Effect.Success<ReturnType<typeof makeCache>>
