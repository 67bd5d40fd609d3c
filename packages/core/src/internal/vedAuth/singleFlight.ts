import { Deferred, Effect, Option, Ref, type Scope } from "effect"
import type * as Grant from "../../Grant.js"
import type * as VedAuthError from "../../VedAuthError.js"

type Flight = Deferred.Deferred<Grant.Grant, VedAuthError.VedAuthError>

/**
 * Shares one run of a renewal: the first fiber to ask starts it, those that ask while it runs
 * wait for its outcome.
 *
 * @internal
 */
export const makeSingleFlight = (layerScope: Scope.Scope) =>
  Effect.gen(function*() {
    // The renewal in progress, shared by every fiber that finds the grant stale (single flight).
    const inflight = yield* Ref.make(Option.none<Flight>())
    return (effect: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError>): Effect.Effect<Grant.Grant, VedAuthError.VedAuthError> =>
      Effect.gen(function*() {
        const mine: Flight = yield* Deferred.make<Grant.Grant, VedAuthError.VedAuthError>()
        const [running, leader] = yield* Ref.modify(
          inflight,
          (current): [readonly [Flight, boolean], Option.Option<Flight>] =>
            Option.isSome(current) ? [[current.value, false], current] : [[mine, true], Option.some(mine)]
        )
        if (leader) {
          // Forked in the layer's scope: it finishes for the others if the first caller is
          // interrupted, and is interrupted itself (releasing the store's lock) when the layer closes.
          // Its waiters learn the outcome either way, interruption included.
          yield* effect.pipe(
            Effect.onExit((exit) => Effect.zipRight(Ref.set(inflight, Option.none()), Deferred.done(running, exit))),
            Effect.forkIn(layerScope)
          )
        }
        return yield* Deferred.await(running)
      })
  })
