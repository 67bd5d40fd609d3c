/**
 * The engine's failures as vedauth's errors: a KDC's refusal of the client's credentials is
 * `AuthenticationFailed` (naming the client), every other Kerberos failure a `KerberosError` with
 * the same reason, code, detail and hint. Anything else thrown by the engine is a defect.
 * @internal
 */
import { Failure } from "@vedauth/winauth"
import { Effect, Either } from "effect"
import { AuthenticationFailed, KerberosError } from "../../VedAuthError.js"

/** @internal */
export const kerberosError = (failure: Failure.KerberosFailure): KerberosError =>
  new KerberosError({
    reason: failure.reason,
    detail: failure.detail,
    ...(failure.code === undefined ? {} : { code: failure.code }),
    ...(failure.hint === undefined ? {} : { hint: failure.hint })
  })

/** @internal */
export const fromFailure = (failure: Failure.KerberosFailure): AuthenticationFailed | KerberosError =>
  failure.refusedClient === undefined
    ? kerberosError(failure)
    : new AuthenticationFailed({ description: failure.message, user: failure.refusedClient })

const rethrow = (error: unknown): never => {
  throw error
}

/** A synchronous engine step: its `KerberosFailure` as a `KerberosError`. @internal */
export const step = <A>(f: () => A): Either.Either<A, KerberosError> =>
  Either.try({ try: f, catch: (e) => (e instanceof Failure.KerberosFailure ? kerberosError(e) : rethrow(e)) })

/** An engine promise (the KDC exchange): its `KerberosFailure` as vedauth's error; anything else a defect. @internal */
export const promised = <A>(f: () => Promise<A>): Effect.Effect<A, AuthenticationFailed | KerberosError> =>
  Effect.tryPromise({ try: f, catch: (e) => e }).pipe(
    Effect.catchAll((e) => (e instanceof Failure.KerberosFailure ? Effect.fail(fromFailure(e)) : Effect.die(e)))
  )
