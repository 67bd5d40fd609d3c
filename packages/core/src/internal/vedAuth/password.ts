import { Effect, Option, Redacted, Ref } from "effect"
import type { Options } from "../../VedAuth.js"
import type * as VedAuthError from "../../VedAuthError.js"

/**
 * The layer's Windows password, as authorize and renewals get it.
 *
 * @internal
 */
export interface Password {
  /** The password (`None` when none is configured), asked for at most once per layer once it succeeds. */
  readonly resolve: Effect.Effect<Option.Option<Redacted.Redacted<string>>, VedAuthError.AuthenticationFailed>
  /** True when an authorize can run without asking for the password. */
  readonly atHand: Effect.Effect<boolean>
}

/**
 * A password given as an effect (a prompt, a vault look-up) runs once per layer, and is resolved
 * before the store's lock is taken: a prompt must not hold up every process sharing the store.
 *
 * @internal
 */
export const makePassword = (given: Options["password"]): Effect.Effect<Password> =>
  Effect.gen(function*() {
    const resolved = yield* Ref.make(Option.none<Redacted.Redacted<string>>())
    const askOnce = yield* Effect.makeSemaphore(1)
    const resolve: Password["resolve"] = given === undefined || Redacted.isRedacted(given)
      ? Effect.succeed(Option.fromNullable(given))
      : askOnce.withPermits(1)(Effect.flatMap(Ref.get(resolved), (known) =>
        Option.isSome(known)
          ? Effect.succeed(known)
          : Effect.map(Effect.tap(given, (p) => Ref.set(resolved, Option.some(p))), Option.some)))
    const atHand: Password["atHand"] = given === undefined || Redacted.isRedacted(given)
      ? Effect.succeed(true)
      : Effect.map(Ref.get(resolved), Option.isSome)
    return { resolve, atHand }
  })
