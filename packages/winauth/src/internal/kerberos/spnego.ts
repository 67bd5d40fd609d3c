/**
 * SPNEGO (RFC 4178) tokens: NegTokenInit inside the GSS framing, NegTokenResp, and the DER of the
 * mechanism list that mechListMIC protects.
 */
import { concat, Malformed } from "../ntlm/bytes.js"
import * as der from "./der.js"
import { Oid } from "./gssToken.js"

/** @internal */
export const NegState = { acceptCompleted: 0, acceptIncomplete: 1, reject: 2, requestMic: 3 } as const

/** The MechTypeList DER, exactly as sent: what mechListMIC is computed over. @internal */
export const encodeMechTypes = (mechs: ReadonlyArray<string>): Uint8Array => der.sequence(...mechs.map(der.oid))

/** `[APPLICATION 0] { spnego OID, [0] NegTokenInit }`. @internal */
export const encodeNegTokenInit = (mechTypes: Uint8Array, mechToken: Uint8Array): Uint8Array =>
  der.tlv(
    der.application(0),
    concat(
      der.oid(Oid.spnego),
      der.tlv(der.context(0), der.sequence(der.field(0, mechTypes), der.field(2, der.octetString(mechToken))))
    )
  )

/** @internal */
export interface NegTokenInit {
  readonly mechTypes: ReadonlyArray<string>
  /** The raw MechTypeList, for the MIC. */
  readonly mechTypesDer: Uint8Array
  readonly mechToken: Uint8Array | undefined
  readonly mechListMic: Uint8Array | undefined
}

/** @internal */
export const decodeNegTokenInit = (token: Uint8Array): NegTokenInit => {
  const outer = der.read(token, der.application(0), "SPNEGO token")
  const mech = der.readAt(outer.content, 0)
  if (der.asOid(mech, "SPNEGO mechanism") !== Oid.spnego) throw new Malformed("the token is not SPNEGO")
  const wrapper = der.read(outer.content.subarray(mech.end), der.context(0), "NegTokenInit")
  const f = new der.Fields("NegTokenInit", der.read(wrapper.content, der.Tag.sequence, "NegTokenInit"))
  const types = f.required(0)
  const token2 = f.optional(2)
  const mic = f.optional(3)
  return {
    mechTypes: der.asSequenceOf(types, "mechTypes").map((e) => der.asOid(e, "mechType")),
    mechTypesDer: types.raw,
    mechToken: token2 === undefined ? undefined : der.asOctets(token2, "mechToken"),
    mechListMic: mic === undefined ? undefined : der.asOctets(mic, "mechListMIC")
  }
}

/** @internal */
export interface NegTokenResp {
  readonly negState: number | undefined
  readonly supportedMech: string | undefined
  readonly responseToken: Uint8Array | undefined
  readonly mechListMic: Uint8Array | undefined
}

/** @internal */
export const encodeNegTokenResp = (r: NegTokenResp): Uint8Array =>
  der.tlv(
    der.context(1),
    der.sequence(
      der.field(0, r.negState === undefined ? undefined : der.tlv(der.Tag.enumerated, Uint8Array.of(r.negState))),
      der.optional(1, r.supportedMech, der.oid),
      der.optional(2, r.responseToken, der.octetString),
      der.optional(3, r.mechListMic, der.octetString)
    )
  )

/** @internal */
export const decodeNegTokenResp = (token: Uint8Array): NegTokenResp => {
  const wrapper = der.read(token, der.context(1), "NegTokenResp")
  const f = new der.Fields("NegTokenResp", der.read(wrapper.content, der.Tag.sequence, "NegTokenResp"))
  const state = f.optional(0)
  const mech = f.optional(1)
  const response = f.optional(2)
  const mic = f.optional(3)
  return {
    negState: state === undefined ? undefined : der.asInteger(state, "negState"),
    supportedMech: mech === undefined ? undefined : der.asOid(mech, "supportedMech"),
    responseToken: response === undefined ? undefined : der.asOctets(response, "responseToken"),
    mechListMic: mic === undefined ? undefined : der.asOctets(mic, "mechListMIC")
  }
}

/** Whether a token is SPNEGO (a NegTokenInit in GSS framing, or a bare NegTokenResp) rather than raw krb5. @internal */
export const isSpnego = (token: Uint8Array): boolean => {
  if (token[0] === der.context(1)) return true
  try {
    const outer = der.read(token, der.application(0), "token")
    return der.asOid(der.readAt(outer.content, 0), "mechanism") === Oid.spnego
  } catch {
    return false
  }
}
