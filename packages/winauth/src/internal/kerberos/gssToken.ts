/**
 * GSS-API framing for the Kerberos mechanism (RFC 2743 section 3.1, RFC 4121 section 4.1): the
 * initial-context token `[APPLICATION 0] { mech OID, TOK_ID, inner }`, the 0x8003 authenticator
 * checksum with channel bindings and flags, and RFC 4121 MIC tokens (for SPNEGO's mechListMIC).
 */
import { md5 } from "@noble/hashes/legacy.js"
import { concat, equalBytes, Malformed } from "../ntlm/bytes.js"
import * as der from "./der.js"
import type { Enctype } from "./enctypes.js"

/** @internal */
export const Oid = {
  krb5: "1.2.840.113554.1.2.2",
  /** The OID Windows 2000 sent by mistake; still listed by Windows clients. */
  msKrb5: "1.2.840.48018.1.2.2",
  spnego: "1.3.6.1.5.5.2",
  ntlm: "1.3.6.1.4.1.311.2.2.10"
} as const

/** Token identifiers (RFC 4121 section 4.1). @internal */
export const TokId = { apReq: 0x0100, apRep: 0x0200, error: 0x0300, mic: 0x0404 } as const

/** GSS context flags carried in the 0x8003 checksum (RFC 2744). @internal */
export const GssFlag = { deleg: 1, mutual: 2, replay: 4, sequence: 8, conf: 16, integ: 32 } as const

/** Checksum type of the GSS authenticator checksum. @internal */
export const gssChecksumType = 0x8003

/** `[APPLICATION 0] IMPLICIT SEQUENCE { thisMech OID, innerToken }` around a krb5 token. @internal */
export const wrapKrb5 = (tokId: number, inner: Uint8Array): Uint8Array =>
  der.tlv(der.application(0), concat(der.oid(Oid.krb5), Uint8Array.of(tokId >>> 8, tokId & 0xff), inner))

/** Reads a krb5 initial-context token: its TOK_ID and inner message. @internal */
export const unwrapKrb5 = (token: Uint8Array): { readonly tokId: number; readonly inner: Uint8Array } => {
  const outer = der.read(token, der.application(0), "GSS token")
  const mech = der.readAt(outer.content, 0)
  const oid = der.asOid(mech, "GSS token mechanism")
  if (oid !== Oid.krb5 && oid !== Oid.msKrb5) {
    throw new Malformed(`the GSS token is for mechanism ${oid}, not Kerberos 5`)
  }
  const rest = outer.content.subarray(mech.end)
  if (rest.length < 2) throw new Malformed("the GSS token has no TOK_ID")
  return { tokId: (rest[0]! << 8) | rest[1]!, inner: rest.subarray(2) }
}

/**
 * MD5 of the gss_channel_bindings_struct (RFC 4121 section 4.1.1.2) with no addresses and the given
 * application data (RFC 5929 tls-server-end-point). Without TLS, no bindings: 16 zero bytes.
 * @internal
 */
export const channelBindingsHash = (applicationData: Uint8Array | undefined): Uint8Array => {
  if (applicationData === undefined) return new Uint8Array(16)
  const le32 = (n: number) => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24)
  return md5(concat(le32(0), le32(0), le32(0), le32(0), le32(applicationData.length), applicationData))
}

/** The 0x8003 checksum value: Lgth (16), Bnd, Flags, little-endian. @internal */
export const encodeGssChecksum = (bindings: Uint8Array, flags: number): Uint8Array =>
  concat(
    Uint8Array.of(16, 0, 0, 0),
    bindings,
    Uint8Array.of(flags & 0xff, (flags >>> 8) & 0xff, (flags >>> 16) & 0xff, flags >>> 24)
  )

/** @internal */
export const decodeGssChecksum = (value: Uint8Array): { readonly bindings: Uint8Array; readonly flags: number } => {
  if (value.length < 24) throw new Malformed("the GSS checksum is shorter than 24 bytes")
  const view = new DataView(value.buffer, value.byteOffset, value.length)
  if (view.getUint32(0, true) !== 16) throw new Malformed("the GSS checksum's binding length is not 16")
  return { bindings: value.slice(4, 20), flags: view.getUint32(20, true) }
}

/** MIC token flags (RFC 4121 section 4.2.2). @internal */
export const MicFlag = { sentByAcceptor: 1, sealed: 2, acceptorSubkey: 4 } as const

const micHeader = (flags: number, sequence: number): Uint8Array => {
  const header = new Uint8Array(16)
  header.set([0x04, 0x04, flags, 0xff, 0xff, 0xff, 0xff, 0xff])
  new DataView(header.buffer).setUint32(12, sequence >>> 0)
  return header
}

/** An RFC 4121 MIC token over `message`. @internal */
export const makeMic = (
  enctype: Enctype,
  key: Uint8Array,
  usage: number,
  flags: number,
  sequence: number,
  message: Uint8Array
): Uint8Array => {
  const header = micHeader(flags, sequence)
  return concat(header, enctype.checksum(key, usage, concat(message, header)))
}

/** Checks an RFC 4121 MIC token over `message`: its flags must include `requiredFlags`. @internal */
export const verifyMic = (
  enctype: Enctype,
  key: Uint8Array,
  usage: number,
  requiredFlags: number,
  token: Uint8Array,
  message: Uint8Array
): boolean => {
  if (token.length !== 16 + enctype.checksumBytes || token[0] !== 0x04 || token[1] !== 0x04) return false
  if ((token[2]! & requiredFlags) !== requiredFlags) return false
  const header = token.subarray(0, 16)
  return equalBytes(enctype.checksum(key, usage, concat(message, header)), token.subarray(16))
}
