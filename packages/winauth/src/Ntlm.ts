/**
 * The NTLMv2 client ([MS-NLMP]) as three byte functions: NEGOTIATE, CHALLENGE read with bounds
 * checks, AUTHENTICATE with NTLMv2 only (MIC, MsvAvTimestamp echo, channel bindings). No I/O: the
 * caller carries the messages in `Authorization: NTLM|Negotiate <base64>` headers on one connection.
 *
 * NTLMv2 only: a CHALLENGE without TargetInfo or without extended session security (an NTLMv1-era
 * server) is an `NtlmFailure`; nothing falls back to LM, NTLMv1, DES or RC4. The AUTHENTICATE
 * always carries a MIC (MsvAvFlags = 2) and MsvAvChannelBindings (zeros without TLS).
 *
 * @since 0.2.0
 */
import { NtlmFailure } from "./Failure.js"
import { AvId, type AvPair, encodeAvPairs, parseAvPairs } from "./internal/ntlm/avPairs.js"
import { concat, Malformed, readUint32, uint32, utf16le } from "./internal/ntlm/bytes.js"
import * as messages from "./internal/ntlm/messages.js"
import { channelBindingsHash, computeNtlmv2, fileTime, hmacMd5, ntlmv2Blob, ntowfv2 } from "./internal/ntlm/ntlmv2.js"

/**
 * A server's CHALLENGE as read.
 *
 * @since 0.2.0
 * @category models
 */
export interface Challenge {
  readonly flags: number
  /** 8 bytes. */
  readonly serverChallenge: Uint8Array
  readonly targetName: string
  /** Raw TargetInfo AV pairs, echoed (with additions) in the NTLMv2 response. */
  readonly targetInfo: Uint8Array
  /** MsvAvTimestamp from TargetInfo (FILETIME, 8 bytes), when the server sent one. */
  readonly timestamp: Uint8Array | undefined
  /** The raw message, needed for the MIC. */
  readonly raw: Uint8Array
}

/**
 * @since 0.2.0
 * @category models
 */
export interface AuthenticateOptions {
  /** The NEGOTIATE message this handshake sent (covered by the MIC). */
  readonly negotiate: Uint8Array
  readonly challenge: Challenge
  readonly domain: string
  readonly username: string
  readonly password: string
  readonly workstation?: string
  /** RFC 5929 `tls-server-end-point` application data (see `ChannelBindings`); none over HTTP. */
  readonly channelBindings?: Uint8Array
  /** e.g. "HTTP/tpp.example.com" (MsvAvTargetName). */
  readonly targetName?: string
  /** Epoch milliseconds, for the blob's timestamp when the CHALLENGE carries none. */
  readonly now: number
}

/**
 * An AUTHENTICATE as read (by a server).
 *
 * @since 0.2.0
 * @category models
 */
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

/**
 * Runs a codec step, turning a malformed message into an `NtlmFailure`.
 *
 * @internal
 */
export const guard = <A>(what: string, step: () => A): A => {
  try {
    return step()
  } catch (error) {
    if (error instanceof Malformed) throw new NtlmFailure(`${what}: ${error.detail}`)
    throw error
  }
}

/**
 * The NEGOTIATE message (type 1), asking for NTLMv2 with extended session security.
 *
 * @since 0.2.0
 * @category client
 */
export const negotiate = (options?: { readonly domain?: string; readonly workstation?: string }): Uint8Array =>
  messages.encodeNegotiate(options?.domain, options?.workstation)

/**
 * Reads a CHALLENGE (type 2). Throws `NtlmFailure` when it is malformed or from an NTLMv1-era server.
 *
 * @since 0.2.0
 * @category client
 */
export const parseChallenge = (message: Uint8Array): Challenge =>
  guard("malformed NTLM CHALLENGE", () => messages.decodeChallenge(message))

const clientAvPairs = (options: AuthenticateOptions): Uint8Array => {
  const own: ReadonlyArray<number> = [AvId.Flags, AvId.ChannelBindings, AvId.TargetName]
  const server = parseAvPairs(options.challenge.targetInfo)
  const serverFlags = server.find((pair) => pair.id === AvId.Flags)
  const flags = (serverFlags !== undefined && serverFlags.value.length === 4 ? readUint32(serverFlags.value, 0) : 0) |
    0x2
  const pairs: Array<AvPair> = [
    ...server.filter((pair) => !own.includes(pair.id)),
    { id: AvId.Flags, value: uint32(flags) },
    { id: AvId.ChannelBindings, value: channelBindingsHash(options.channelBindings) }
  ]
  if (options.targetName !== undefined) pairs.push({ id: AvId.TargetName, value: utf16le(options.targetName) })
  return encodeAvPairs(pairs)
}

/**
 * The AUTHENTICATE message (type 3) answering a CHALLENGE: the NTLMv2 response with a fresh client
 * challenge, and the MIC over the three messages. Throws `NtlmFailure` when the CHALLENGE cannot be
 * answered. The password is used and forgotten; it is never part of a failure.
 *
 * @since 0.2.0
 * @category client
 */
export const authenticate = (options: AuthenticateOptions): Uint8Array =>
  guard("cannot answer the NTLM CHALLENGE", () => {
    const { challenge } = options
    if (challenge.serverChallenge.length !== 8) throw new Malformed("the server challenge is not 8 bytes")
    const clientChallenge = crypto.getRandomValues(new Uint8Array(8))
    const timestamp = challenge.timestamp ?? fileTime(options.now)
    const key = ntowfv2(options.password, options.username, options.domain)
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
