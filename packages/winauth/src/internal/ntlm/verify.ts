/** The server half's check of an NTLMv2 AUTHENTICATE: proof, MIC, channel bindings. */
import type { Authenticate } from "../../Ntlm.js"
import { AvId, findAvPair, parseAvPairs } from "./avPairs.js"
import { concat, equalBytes, Malformed, readUint32 } from "./bytes.js"
import { withMic } from "./messages.js"
import { channelBindingsHash, hmacMd5, ntowfv2 } from "./ntlmv2.js"

/** Why a server refuses an AUTHENTICATE. @internal */
export type Rejection =
  | "unknown-user"
  | "bad-proof"
  | "bad-mic"
  | "missing-mic"
  | "bad-channel-bindings"
  | "missing-channel-bindings"
  | "ntlmv1"

/** What the server knows when it checks an AUTHENTICATE. @internal */
export interface VerifyOptions {
  readonly negotiate: Uint8Array | undefined
  /** The raw CHALLENGE the server sent. */
  readonly challenge: Uint8Array
  readonly serverChallenge: Uint8Array
  readonly authenticate: Authenticate
  /** The user's password, or none when the user is unknown. */
  readonly password: string | undefined
  /** Expected channel-binding application data over TLS; when given, the client's hash must match. */
  readonly channelBindings?: Uint8Array
  /** Over TLS (when `channelBindings` is given): reject a client that sent no bindings (zeros or none). */
  readonly requireChannelBindings?: boolean
  /** Reject an AUTHENTICATE without a MIC even when the CHALLENGE carried no timestamp. */
  readonly requireMic?: boolean
}

// NTProofStr (16) + blob header up to the AV pairs (28).
const MIN_NTLMV2_RESPONSE = 16 + 28
const MSV_AV_FLAGS_MIC = 0x2

/** @internal */
export const verifyAuthenticate = (options: VerifyOptions): Rejection | undefined => {
  const { authenticate } = options
  if (options.password === undefined) return "unknown-user"
  const nt = authenticate.ntResponse
  if (nt.length === 24) return "ntlmv1"
  if (nt.length < MIN_NTLMV2_RESPONSE) return "bad-proof"
  const proof = nt.subarray(0, 16)
  const blob = nt.subarray(16)
  const key = ntowfv2(options.password, authenticate.username, authenticate.domain)
  if (!equalBytes(hmacMd5(key, options.serverChallenge, blob), proof)) return "bad-proof"

  let pairs
  try {
    pairs = parseAvPairs(blob.subarray(28))
  } catch (error) {
    if (error instanceof Malformed) return "bad-proof"
    throw error
  }
  const avFlags = findAvPair(pairs, AvId.Flags)
  const micPromised = avFlags !== undefined && avFlags.length === 4 && (readUint32(avFlags, 0) & MSV_AV_FLAGS_MIC) !== 0
  if (micPromised) {
    if (authenticate.mic === undefined) return "missing-mic"
    const sessionBaseKey = hmacMd5(key, proof)
    const zeroed = withMic(authenticate.raw, new Uint8Array(16))
    const expected = hmacMd5(sessionBaseKey, concat(options.negotiate ?? new Uint8Array(0), options.challenge, zeroed))
    if (!equalBytes(expected, authenticate.mic)) return "bad-mic"
  } else if (options.requireMic === true) {
    // [MS-NLMP] 3.1.5.1.2 says a client SHOULD send a MIC when the CHALLENGE carried MsvAvTimestamp,
    // but a server checks the MIC only when MsvAvFlags announce one (3.2.5.1.2): Windows accepts
    // clients that echo the timestamp without a MIC (curl 7.88 does), so only `requireMic` refuses them.
    return "missing-mic"
  }

  if (options.channelBindings !== undefined) {
    const sent = findAvPair(pairs, AvId.ChannelBindings)
    const absent = sent === undefined || sent.every((b) => b === 0)
    if (absent) {
      if (options.requireChannelBindings === true) return "missing-channel-bindings"
    } else if (!equalBytes(sent, channelBindingsHash(options.channelBindings))) {
      return "bad-channel-bindings"
    }
  }
  // Without TLS there is nothing to bind to: `requireChannelBindings` only means something over TLS.
  return undefined
}
