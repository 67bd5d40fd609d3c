/**
 * The NTLMv2 client ([MS-NLMP]) as Effect values, over `@vedauth/winauth`'s sans-I/O codec:
 * NEGOTIATE, CHALLENGE parsing with bounds checks, AUTHENTICATE with NTLMv2 only (MIC,
 * MsvAvTimestamp echo, channel bindings), with the password in a `Redacted` and the time from the
 * `Clock`. The server half (CHALLENGE, AUTHENTICATE verification) is `@vedauth/winauth/server`'s.
 *
 * NTLMv2 only: a CHALLENGE without TargetInfo or without extended session security (an NTLMv1-era
 * server) is an `NtlmProtocolError`; nothing falls back to LM, NTLMv1, DES or RC4.
 *
 * @since 0.1.0
 */
import { ChannelBindings, Failure, Ntlm } from "@vedauth/winauth"
import { Clock, Effect, Either, Redacted } from "effect"
import { NtlmProtocolError } from "./VedAuthError.js"

/**
 * A server's CHALLENGE as read.
 *
 * @since 0.1.0
 * @category models
 */
export type Challenge = Ntlm.Challenge

/**
 * @since 0.1.0
 * @category models
 */
export interface AuthenticateOptions extends Omit<Ntlm.AuthenticateOptions, "password" | "now"> {
  readonly password: Redacted.Redacted<string>
}

const fromFailure = (error: unknown): NtlmProtocolError => {
  if (error instanceof Failure.NtlmFailure) return new NtlmProtocolError({ detail: error.detail })
  throw error
}

/**
 * The NEGOTIATE message (type 1).
 *
 * @since 0.1.0
 * @category client
 */
export const negotiate: (options?: { readonly domain?: string; readonly workstation?: string }) => Uint8Array =
  Ntlm.negotiate

/**
 * Reads a CHALLENGE (type 2).
 *
 * @since 0.1.0
 * @category client
 */
export const parseChallenge = (message: Uint8Array): Either.Either<Challenge, NtlmProtocolError> =>
  Either.try({ try: () => Ntlm.parseChallenge(message), catch: fromFailure })

/**
 * The AUTHENTICATE message (type 3) answering a CHALLENGE, at the Clock's time.
 *
 * @since 0.1.0
 * @category client
 */
export const authenticate: (options: AuthenticateOptions) => Effect.Effect<Uint8Array, NtlmProtocolError> = Effect.fn(
  "Ntlm.authenticate"
)(
  function*(options: AuthenticateOptions) {
    const now = yield* Clock.currentTimeMillis
    return yield* Either.try({
      try: () => Ntlm.authenticate({ ...options, password: Redacted.value(options.password), now }),
      catch: fromFailure
    })
  }
)

/**
 * RFC 5929 `tls-server-end-point` application data for a server certificate (DER).
 *
 * @since 0.1.0
 * @category channel bindings
 */
export const tlsServerEndPoint = (certificateDer: Uint8Array): Either.Either<Uint8Array, NtlmProtocolError> =>
  Either.try({ try: () => ChannelBindings.tlsServerEndPoint(certificateDer), catch: fromFailure })
