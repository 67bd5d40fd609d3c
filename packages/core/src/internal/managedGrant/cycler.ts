/**
 * The in-process half of the managed grant, and its hot path: the last grant this process saw (one
 * `Ref`), handed out while fresh with a `Ref` read and a clock read; the store looked at again now
 * and then (another process may have rotated the grant); and one renewal in flight however many
 * fibers find the grant stale. What a renewal does is not its business: it is given `renew`.
 *
 * @internal
 */
import { Clock, DateTime, Deferred, type Duration, Effect, Option, type Redacted, Ref, type Scope } from "effect"
import type * as Grant from "../../Grant.js"
import type * as TokenStore from "../../TokenStore.js"
import type * as VedAuthError from "../../VedAuthError.js"
import { type Freshness, freshness, freshUntilMillis } from "../freshness.js"
import { sameToken } from "./storeProtocol.js"

/**
 * How long a cached grant is handed out before the store is looked at again (to see a rotation by
 * another process): short enough that a dead token is noticed promptly, long enough that the hot
 * path is a Ref read and a clock read.
 *
 * @internal
 */
export const cacheCheckMillis = 5_000

interface Cached {
  readonly grant: Grant.Grant
  /** Clock millis when the grant was last seen to match the store (or put there). */
  readonly checkedAt: number
  /** Clock millis until which the grant is fresh (see `freshUntilMillis`). */
  readonly freshUntil: number
  /** The store failed to save it: the store's copy is older, or missing. */
  readonly unsaved: boolean
}

type Failure = VedAuthError.VedAuthError

/**
 * The last grant this process saw. Written only through `remember` and `forget`.
 *
 * @internal
 */
export interface Memory {
  readonly stateAt: (grant: Grant.Grant, now: DateTime.Utc) => Freshness
  /** Caches `grant` as seen in the store now (or, `unsaved`, as held by this process alone). */
  readonly remember: (grant: Grant.Grant, unsaved?: boolean) => Effect.Effect<Grant.Grant>
  readonly forget: Effect.Effect<void>
  /** The cached grant, when the store failed to save it: newer than the store's copy. */
  readonly unsaved: Effect.Effect<Option.Option<Grant.Grant>>
  readonly cached: Effect.Effect<Option.Option<Cached>>
}

/** @internal */
export const makeMemory = (refreshWindow: Duration.DurationInput | undefined): Effect.Effect<Memory> =>
  Effect.map(Ref.make(Option.none<Cached>()), (cache) => ({
    stateAt: (grant, now) => freshness(grant, now, refreshWindow),
    remember: (grant, unsaved = false) =>
      Effect.flatMap(Clock.currentTimeMillis, (checkedAt) =>
        Effect.as(
          Ref.set(
            cache,
            Option.some({ grant, checkedAt, unsaved, freshUntil: freshUntilMillis(grant, refreshWindow) })
          ),
          grant
        )),
    forget: Ref.set(cache, Option.none()),
    unsaved: Effect.map(
      Ref.get(cache),
      (cached) => Option.map(Option.filter(cached, (entry) => entry.unsaved), (entry) => entry.grant)
    ),
    cached: Ref.get(cache)
  }))

/** @internal */
export interface CyclerOptions {
  readonly memory: Memory
  readonly store: TokenStore.Service
  readonly key: TokenStore.Key
  /** Renewals run in it, so closing the layer interrupts them (and frees the store's lock). */
  readonly layerScope: Scope.Scope
  /** Renews the grant (`rejected`: an access token a resource server refused, never handed out again). */
  readonly renew: (rejected: Option.Option<Redacted.Redacted<string>>) => Effect.Effect<Grant.Grant, Failure>
}

/** @internal */
export const make = ({ key, layerScope, memory, renew, store }: CyclerOptions) =>
  Effect.gen(function*() {
    const inflight = yield* Ref.make(Option.none<Deferred.Deferred<Grant.Grant, Failure>>())

    /**
     * One renewal for everyone: the first fiber to ask starts it, those that ask while it runs wait
     * for its outcome. Forked in the layer's scope: it finishes for the others if the first caller
     * is interrupted, and is interrupted itself (releasing the store's lock) when the layer closes.
     */
    const renewOnce = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function*() {
        const mine = yield* Deferred.make<Grant.Grant, Failure>()
        const [running, leader] = yield* Ref.modify(
          inflight,
          (
            current
          ): [
            readonly [Deferred.Deferred<Grant.Grant, Failure>, boolean],
            Option.Option<Deferred.Deferred<Grant.Grant, Failure>>
          ] => Option.isSome(current) ? [[current.value, false], current] : [[mine, true], Option.some(mine)]
        )
        if (leader) {
          yield* renew(rejected).pipe(
            Effect.onExit((exit) => Effect.zipRight(Ref.set(inflight, Option.none()), Deferred.done(running, exit))),
            Effect.forkIn(layerScope)
          )
        }
        return yield* Deferred.await(running)
      })

    /**
     * Whether the cached grant is still the one to use, after `cacheCheckMillis`: another process
     * may have rotated the grant (the CLI's refresh, a replica after a 401), which kills our token.
     * `None` sends the caller to the store and a renewal.
     */
    const recheck = (cached: Cached, now: DateTime.Utc) =>
      store.get(key).pipe(
        Effect.flatMap((stored): Effect.Effect<Option.Option<Grant.Grant>> => {
          if (Option.isNone(stored)) return Effect.succeed(cached.unsaved ? Option.some(cached.grant) : Option.none())
          if (
            sameToken(stored.value.accessToken, cached.grant.accessToken) ||
            !DateTime.greaterThanOrEqualTo(stored.value.issuedAt, cached.grant.issuedAt)
          ) {
            // Still ours, or older than ours (ours failed to save): keep it, look again later.
            return Effect.as(memory.remember(cached.grant, cached.unsaved), Option.some(cached.grant))
          }
          return memory.stateAt(stored.value, now) === "fresh"
            ? Effect.map(memory.remember(stored.value), Option.some)
            : Effect.succeedNone
        }),
        // A store that cannot be read right now does not make the cached token any worse.
        Effect.catchAll((error) =>
          Effect.as(
            Effect.logDebug("vedauth: could not re-read the token store", error.message),
            Option.some(cached.grant)
          )
        )
      )

    // Everything past the in-memory cache: the store, and a renewal when the grant is stale.
    const grantSlow = (now: DateTime.Utc, cached: Option.Option<Cached>) =>
      Effect.gen(function*() {
        if (Option.isSome(cached) && memory.stateAt(cached.value.grant, now) === "fresh") {
          const checked = yield* recheck(cached.value, now)
          if (Option.isSome(checked)) return checked.value
        }
        const stored = yield* store.get(key)
        if (Option.isSome(stored) && memory.stateAt(stored.value, now) === "fresh") {
          return yield* memory.remember(stored.value)
        }
        return yield* renewOnce(Option.none())
      }).pipe(Effect.withSpan("VedAuth.grant"))

    // The hot path is a Ref read and a clock read, with no span: a span captures a stack trace and
    // would cost more than the rest of the call. Spans start where I/O may happen.
    const grant: Effect.Effect<Grant.Grant, Failure> = Effect.flatMap(
      Effect.zip(Clock.currentTimeMillis, memory.cached),
      ([now, cached]) =>
        Option.isSome(cached) && now - cached.value.checkedAt < cacheCheckMillis && now < cached.value.freshUntil
          ? Effect.succeed(cached.value.grant)
          : grantSlow(DateTime.unsafeMake(now), cached)
    )

    return { grant, renewOnce }
  })
