/**
 * NTLMv2 messages ([MS-NLMP]), both halves, portable (no `node:*`: runs on Node, Deno, Bun, workers).
 * Client: NEGOTIATE, CHALLENGE parsing with bounds checks, AUTHENTICATE with NTLMv2 only (MIC,
 * MsvAvTimestamp echo, channel bindings). Server (for the simulator): CHALLENGE, AUTHENTICATE parsing
 * and verification of the NTLMv2 proof, MIC and channel bindings.
 *
 * NTLMv2 only: a CHALLENGE without TargetInfo or without extended session security (an NTLMv1-era
 * server) is an `NtlmProtocolError`; the codec never falls back to LM, NTLMv1, DES or RC4.
 * The AUTHENTICATE always carries a MIC (MsvAvFlags = 2) and MsvAvChannelBindings (zeros without TLS).
 *
 * @since 0.1.0
 */
import { Clock, Effect, Either, Redacted } from "effect"
import { AvId, encodeAvPairs, parseAvPairs, type AvPair } from "./internal/ntlm/avPairs.js"
import { concat, Malformed, readUint32, uint32, utf16le } from "./internal/ntlm/bytes.js"
import { tlsServerEndPointData } from "./internal/ntlm/certificate.js"
import * as messages from "./internal/ntlm/messages.js"
import { channelBindingsHash, computeNtlmv2, fileTime, hmacMd5, ntlmv2Blob, ntowfv2 } from "./internal/ntlm/ntlmv2.js"
import { verifyAuthenticate } from "./internal/ntlm/verify.js"
import { NtlmProtocolError } from "./VedAuthError.js"

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
  /** Over TLS (when `channelBindings` is given): reject a client that sent no bindings (zeros or none). */
  readonly requireChannelBindings?: boolean
  /** Reject an AUTHENTICATE without a MIC even when the CHALLENGE carried no timestamp. */
  readonly requireMic?: boolean
}

/** Why a server rejected an AUTHENTICATE (never contains a secret). @since 0.1.0 @category models */
export type Rejection = "unknown-user" | "bad-proof" | "bad-mic" | "missing-mic" | "bad-channel-bindings" | "missing-channel-bindings" | "ntlmv1"

/** Runs a parser, turning a `Malformed` finding into an `NtlmProtocolError` (other throws are bugs). */
const guard = <A>(what: string, parse: () => A): Either.Either<A, NtlmProtocolError> => {
  try {
    return Either.right(parse())
  } catch (error) {
    if (error instanceof Malformed) return Either.left(new NtlmProtocolError({ detail: `${what}: ${error.detail}` }))
    throw error
  }
}

/**
 * The NEGOTIATE message (Type 1). Domain and workstation are OEM strings here, so they are sent only
 * when they are plain ASCII (the AUTHENTICATE carries them as UTF-16LE in any case).
 *
 * @since 0.1.0
 * @category client
 */
export const negotiate = (options?: { readonly domain?: string; readonly workstation?: string }): Uint8Array =>
  messages.encodeNegotiate(options?.domain, options?.workstation)

/**
 * Parses a CHALLENGE (Type 2), checking every (length, offset) pair against the message. Fails on a
 * malformed message and on an NTLMv1-only one (no TargetInfo or no extended session security).
 *
 * @since 0.1.0
 * @category client
 */
export const parseChallenge = (message: Uint8Array): Either.Either<Challenge, NtlmProtocolError> =>
  guard("malformed NTLM CHALLENGE", () => messages.decodeChallenge(message))

/** The client's AV pairs: the server's TargetInfo plus MsvAvFlags (MIC), channel bindings, target name. */
const clientAvPairs = (options: AuthenticateOptions): Uint8Array => {
  const own: ReadonlyArray<number> = [AvId.Flags, AvId.ChannelBindings, AvId.TargetName]
  const server = parseAvPairs(options.challenge.targetInfo)
  const serverFlags = server.find((pair) => pair.id === AvId.Flags)
  const flags = (serverFlags !== undefined && serverFlags.value.length === 4 ? readUint32(serverFlags.value, 0) : 0) | 0x2
  const pairs: Array<AvPair> = [
    ...server.filter((pair) => !own.includes(pair.id)),
    { id: AvId.Flags, value: uint32(flags) },
    { id: AvId.ChannelBindings, value: channelBindingsHash(options.channelBindings) }
  ]
  if (options.targetName !== undefined) pairs.push({ id: AvId.TargetName, value: utf16le(options.targetName) })
  return encodeAvPairs(pairs)
}

/**
 * The AUTHENTICATE message (Type 3), NTLMv2 only, with a client challenge from the platform's CSPRNG.
 * When the server sent MsvAvTimestamp it is echoed and the LM response is 24 zero bytes; otherwise
 * the time comes from Effect's `Clock` and an LMv2 response is sent. Always MsvAvFlags = 2 and a MIC.
 *
 * @since 0.1.0
 * @category client
 */
export const authenticate: (options: AuthenticateOptions) => Effect.Effect<Uint8Array, NtlmProtocolError> = Effect.fn(
  "Ntlm.authenticate"
)(function*(options: AuthenticateOptions) {
  const { challenge } = options
  const clientChallenge = yield* Effect.sync(() => crypto.getRandomValues(new Uint8Array(8)))
  const timestamp = challenge.timestamp ?? fileTime(yield* Clock.currentTimeMillis)
  return yield* guard("cannot answer the NTLM CHALLENGE", () => {
    if (challenge.serverChallenge.length !== 8) throw new Malformed("the server challenge is not 8 bytes")
    const key = ntowfv2(Redacted.value(options.password), options.username, options.domain)
    const blob = ntlmv2Blob(timestamp, clientChallenge, clientAvPairs(options))
    const response = computeNtlmv2(key, challenge.serverChallenge, clientChallenge, blob)
    const unsigned = messages.encodeAuthenticate({
      challenge,
      domain: options.domain,
      username: options.username,
      workstation: options.workstation ?? "",
      lmResponse: challenge.timestamp === undefined ? response.lmv2Response : new Uint8Array(24),
      ntResponse: response.ntResponse,
      mic: new Uint8Array(16)
    })
    const mic = hmacMd5(response.sessionBaseKey, concat(options.negotiate, challenge.raw, unsigned))
    return messages.withMic(unsigned, mic)
  })
})

/**
 * Server half: a CHALLENGE (Type 2) offering NTLMv2, with TargetInfo (NetBIOS and DNS names) and
 * MsvAvTimestamp so that clients send a MIC.
 *
 * @since 0.1.0
 * @category server
 */
export const challenge = (options: {
  readonly serverChallenge: Uint8Array
  readonly targetName: string
  readonly timestamp: Uint8Array
  readonly dnsDomain?: string
  readonly dnsComputer?: string
}): Uint8Array => messages.encodeChallenge(options)

/**
 * Server half: parses an AUTHENTICATE (Type 3) with bounds checks on every field.
 *
 * @since 0.1.0
 * @category server
 */
export const parseAuthenticate = (message: Uint8Array): Either.Either<Authenticate, NtlmProtocolError> =>
  guard("malformed NTLM AUTHENTICATE", () => messages.decodeAuthenticate(message))

/**
 * Server half: checks the NTLMv2 proof against the password, then the MIC (when the client's MsvAvFlags
 * promise one, or the client echoed a timestamp), then the channel bindings over TLS.
 *
 * @since 0.1.0
 * @category server
 */
export const verify = (options: VerifyOptions): Either.Either<void, Rejection> => {
  const rejection = verifyAuthenticate(options)
  return rejection === undefined ? Either.void : Either.left(rejection)
}

/**
 * RFC 5929 `tls-server-end-point` application data for a DER certificate: "tls-server-end-point:" +
 * the certificate hashed with its signature's hash (MD5 and SHA-1 replaced by SHA-256).
 *
 * @since 0.1.0
 * @category channel bindings
 */
export const tlsServerEndPoint = (certificateDer: Uint8Array): Either.Either<Uint8Array, NtlmProtocolError> =>
  guard("cannot compute TLS channel bindings", () => tlsServerEndPointData(certificateDer))

/**
 * A FILETIME (8 bytes, little-endian) for the given Unix time in milliseconds, e.g. for `challenge`.
 *
 * @since 0.1.0
 * @category utils
 */
export const fileTimeFromMillis = (epochMillis: number): Uint8Array => fileTime(epochMillis)
