/** The NTLMv2 computations of [MS-NLMP] 3.3.2, shared by the client and the server half. */
import { hmac } from "@noble/hashes/hmac.js"
import { md5 } from "@noble/hashes/legacy.js"
import { concat, uint32, utf16le } from "./bytes.js"
import { md4 } from "./md4.js"

/** @internal */
export const hmacMd5 = (key: Uint8Array, ...message: ReadonlyArray<Uint8Array>): Uint8Array =>
  hmac(md5, key, concat(...message))

/** NTOWFv1 = MD4(UTF16LE(password)), the NT hash. @internal */
export const ntowfv1 = (password: string): Uint8Array => md4(utf16le(password))

/**
 * Upper case as Windows' RtlUpcaseUnicodeString does: one code unit to one code unit. JavaScript's
 * full case mapping would turn "ß" into "SS" and change the key.
 */
const upcaseSimple = (text: string): string =>
  Array.from(text, (c) => {
    const upper = c.toUpperCase()
    return upper.length === c.length ? upper : c
  }).join("")

/** NTOWFv2 = HMAC_MD5(NTOWFv1(password), UTF16LE(UPPER(user) + domain)). @internal */
export const ntowfv2 = (password: string, username: string, domain: string): Uint8Array =>
  hmacMd5(ntowfv1(password), utf16le(upcaseSimple(username) + domain))

/** The NTLMv2 "temp" blob: header, timestamp, client challenge, AV pairs. @internal */
export const ntlmv2Blob = (timestamp: Uint8Array, clientChallenge: Uint8Array, avPairs: Uint8Array): Uint8Array =>
  concat(Uint8Array.of(1, 1, 0, 0), uint32(0), timestamp, clientChallenge, uint32(0), avPairs, uint32(0))

/** @internal */
export interface Ntlmv2Response {
  readonly ntProofStr: Uint8Array
  readonly ntResponse: Uint8Array
  readonly lmv2Response: Uint8Array
  readonly sessionBaseKey: Uint8Array
}

/** @internal */
export const computeNtlmv2 = (
  key: Uint8Array,
  serverChallenge: Uint8Array,
  clientChallenge: Uint8Array,
  blob: Uint8Array
): Ntlmv2Response => {
  const ntProofStr = hmacMd5(key, serverChallenge, blob)
  return {
    ntProofStr,
    ntResponse: concat(ntProofStr, blob),
    lmv2Response: concat(hmacMd5(key, serverChallenge, clientChallenge), clientChallenge),
    sessionBaseKey: hmacMd5(key, ntProofStr)
  }
}

/**
 * MsvAvChannelBindings: MD5 of a gss_channel_bindings_struct with zero addresses and the RFC 5929
 * application data; 16 zero bytes when there is no TLS (what Windows sends over plain HTTP).
 * @internal
 */
export const channelBindingsHash = (applicationData: Uint8Array | undefined): Uint8Array =>
  applicationData === undefined
    ? new Uint8Array(16)
    : md5(concat(new Uint8Array(16), uint32(applicationData.length), applicationData))

/** Milliseconds since the Unix epoch to a FILETIME (100 ns since 1601), little-endian. @internal */
export const fileTime = (epochMillis: number): Uint8Array => {
  const ticks = (BigInt(Math.floor(epochMillis)) + 11_644_473_600_000n) * 10_000n
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, ticks, true)
  return out
}
