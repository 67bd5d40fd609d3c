/**
 * The server half of NTLMv2, for test servers and simulators: the CHALLENGE, the AUTHENTICATE read
 * with bounds checks, and the check of its NTLMv2 proof, MIC and channel bindings.
 *
 * @since 0.2.0
 */
import * as messages from "../internal/ntlm/messages.js"
import { fileTime } from "../internal/ntlm/ntlmv2.js"
import { type Rejection, verifyAuthenticate, type VerifyOptions } from "../internal/ntlm/verify.js"
import { type Authenticate, guard } from "../Ntlm.js"

export type {
  /**
   * Why a server refuses an AUTHENTICATE (never contains a secret).
   *
   * @since 0.2.0
   * @category models
   */
  Rejection,
  /**
   * @since 0.2.0
   * @category models
   */
  VerifyOptions
}

/**
 * A CHALLENGE (type 2) with TargetInfo (and MsvAvTimestamp, so that clients send a MIC).
 *
 * @since 0.2.0
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
 * Reads an AUTHENTICATE (type 3). Throws `NtlmFailure` when it is malformed.
 *
 * @since 0.2.0
 * @category server
 */
export const parseAuthenticate = (message: Uint8Array): Authenticate =>
  guard("malformed NTLM AUTHENTICATE", () => messages.decodeAuthenticate(message))

/**
 * Checks an AUTHENTICATE: `undefined` when it holds, else why not.
 *
 * @since 0.2.0
 * @category server
 */
export const verify = (options: VerifyOptions): Rejection | undefined => verifyAuthenticate(options)

/**
 * A FILETIME (8 bytes, 100 ns since 1601) for epoch milliseconds, for the CHALLENGE's timestamp.
 *
 * @since 0.2.0
 * @category utils
 */
export const fileTimeFromMillis = (epochMillis: number): Uint8Array => fileTime(epochMillis)
