/**
 * NTLMv2 messages ([MS-NLMP]), both halves, portable (no `node:*`: runs on Node, Deno, Bun, workers).
 * Client: NEGOTIATE, CHALLENGE parsing with bounds checks, AUTHENTICATE with NTLMv2 only (MIC,
 * MsvAvTimestamp echo, channel bindings). Server (for the simulator): CHALLENGE, AUTHENTICATE parsing
 * and verification of the NTLMv2 proof, MIC and channel bindings.
 *
 * CONTRACT STUB: the signatures below are the agreed API; the implementation is being written.
 *
 * @since 0.1.0
 */
import type { Effect, Either, Redacted } from "effect"
import type { NtlmProtocolError } from "./VedAuthError.js"

/** @since 0.1.0 @category models */
export interface Challenge {
  readonly flags: number
  readonly serverChallenge: Uint8Array // 8 bytes
  readonly targetName: string
  /** Raw TargetInfo AV pairs, echoed (with additions) in the NTLMv2 response. */
  readonly targetInfo: Uint8Array
  /** MsvAvTimestamp from TargetInfo (FILETIME, 8 bytes), when the server sent one. */
  readonly timestamp: Uint8Array | undefined
  /** The raw message, needed for the MIC. */
  readonly raw: Uint8Array
}

/** @since 0.1.0 @category models */
export interface AuthenticateOptions {
  readonly negotiate: Uint8Array
  readonly challenge: Challenge
  readonly domain: string
  readonly username: string
  readonly password: Redacted.Redacted<string>
  readonly workstation?: string
  /** RFC 5929 `tls-server-end-point` application data ("tls-server-end-point:" + hash); none over HTTP. */
  readonly channelBindings?: Uint8Array
  /** e.g. "HTTP/tpp.example.com" (MsvAvTargetName). */
  readonly targetName?: string
}

/** @since 0.1.0 @category models */
export interface Authenticate {
  readonly flags: number
  readonly domain: string
  readonly username: string
  readonly workstation: string
  readonly lmResponse: Uint8Array
  readonly ntResponse: Uint8Array
  readonly mic: Uint8Array | undefined
  readonly raw: Uint8Array
}

/** @since 0.1.0 @category models */
export interface VerifyOptions {
  readonly negotiate: Uint8Array | undefined
  readonly challenge: Uint8Array // the raw CHALLENGE the server sent
  readonly serverChallenge: Uint8Array
  readonly authenticate: Authenticate
  /** The user's password, or none when the user is unknown. */
  readonly password: Redacted.Redacted<string> | undefined
  /** Expected channel-binding application data over TLS; when given, the client's hash must match. */
  readonly channelBindings?: Uint8Array
  readonly requireChannelBindings?: boolean
}

/** Why a server rejected an AUTHENTICATE (never contains a secret). @since 0.1.0 @category models */
export type Rejection = "unknown-user" | "bad-proof" | "bad-mic" | "missing-mic" | "bad-channel-bindings" | "missing-channel-bindings" | "ntlmv1"

declare const notYet: never
/** @since 0.1.0 */
export const negotiate: (options?: { readonly domain?: string; readonly workstation?: string }) => Uint8Array = notYet
/** @since 0.1.0 */
export const parseChallenge: (message: Uint8Array) => Either.Either<Challenge, NtlmProtocolError> = notYet
/** Needs a CSPRNG (`crypto.getRandomValues`) and `Clock` (timestamp when the server sent none). @since 0.1.0 */
export const authenticate: (options: AuthenticateOptions) => Effect.Effect<Uint8Array, NtlmProtocolError> = notYet
/** Server half. @since 0.1.0 */
export const challenge: (options: { readonly serverChallenge: Uint8Array; readonly targetName: string; readonly timestamp: Uint8Array; readonly dnsDomain?: string; readonly dnsComputer?: string }) => Uint8Array = notYet
/** Server half. @since 0.1.0 */
export const parseAuthenticate: (message: Uint8Array) => Either.Either<Authenticate, NtlmProtocolError> = notYet
/** Server half. @since 0.1.0 */
export const verify: (options: VerifyOptions) => Either.Either<void, Rejection> = notYet
/** RFC 5929 application data for a DER certificate: "tls-server-end-point:" + hash. @since 0.1.0 */
export const tlsServerEndPoint: (certificateDer: Uint8Array) => Either.Either<Uint8Array, NtlmProtocolError> = notYet
