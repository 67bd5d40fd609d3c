/**
 * KDC exchange messages (RFC 4120 sections 5.4 and 5.9): AS-REQ and TGS-REQ out, AS-REP, TGS-REP and
 * KRB-ERROR in, with the pre-authentication pieces (PA-ENC-TIMESTAMP, ETYPE-INFO2).
 */
import * as der from "./der.js"
import {
  decodeEncryptedData,
  decodeKey,
  decodePaDataList,
  decodePrincipal,
  decodeTicket,
  encodeEncryptedData,
  encodeKey,
  encodePaData,
  encodePrincipal,
  type EncryptedData,
  type EncryptionKey,
  type PaData,
  type PrincipalName,
  type Ticket
} from "./types.js"

/** Message types (RFC 4120 section 7.5.7). @internal */
export const MsgType = { asReq: 10, asRep: 11, tgsReq: 12, tgsRep: 13, apReq: 14, apRep: 15, error: 30 } as const

/** KDCOptions: canonicalize (15, RFC 6806); bit 0 is the top bit. @internal */
export const canonicalizeOption = 1 << (31 - 15)

/** KDCOptions: renewable-ok (27) and canonicalize (15). @internal */
export const defaultKdcOptions = (1 << (31 - 27)) | canonicalizeOption

/** @internal */
export interface KdcReqBody {
  readonly options: number
  readonly cname: PrincipalName | undefined
  readonly realm: string
  readonly sname: PrincipalName
  readonly till: number
  readonly nonce: number
  readonly etypes: ReadonlyArray<number>
}

/** The req-body's DER, which the TGS-REQ authenticator checksums. @internal */
export const encodeReqBody = (b: KdcReqBody): Uint8Array =>
  der.sequence(
    der.field(0, der.flags32(b.options)),
    der.optional(1, b.cname, encodePrincipal),
    der.field(2, der.generalString(b.realm)),
    der.field(3, encodePrincipal(b.sname)),
    der.field(5, der.time(b.till)),
    der.field(7, der.integer(b.nonce)),
    der.field(8, der.sequence(...b.etypes.map(der.integer)))
  )

/** AS-REQ ([APPLICATION 10]) or TGS-REQ ([APPLICATION 12]) around an encoded body. @internal */
export const encodeKdcReq = (msgType: 10 | 12, padata: ReadonlyArray<PaData>, body: Uint8Array): Uint8Array =>
  der.tlv(
    der.application(msgType),
    der.sequence(
      der.field(1, der.integer(5)),
      der.field(2, der.integer(msgType)),
      der.field(3, padata.length === 0 ? undefined : der.sequence(...padata.map(encodePaData))),
      der.field(4, body)
    )
  )

/** A KDC request as a KDC reads it; `bodyRaw` is the req-body DER the TGS checksum covers. @internal */
export interface KdcReq extends KdcReqBody {
  readonly msgType: 10 | 12
  readonly padata: ReadonlyArray<PaData>
  readonly bodyRaw: Uint8Array
}

/** @internal */
export const decodeKdcReq = (bytes: Uint8Array): KdcReq => {
  const tag = messageTag(bytes)
  if (tag !== MsgType.asReq && tag !== MsgType.tgsReq) {
    throw new der.Malformed("the message is neither an AS-REQ nor a TGS-REQ")
  }
  const f = der.readApplication(bytes, tag, "KDC-REQ")
  if (der.asInteger(f.required(1), "KDC-REQ pvno") !== 5) throw new der.Malformed("the KDC-REQ is not Kerberos 5")
  const padata = f.optional(3)
  const bodyElement = f.required(4)
  const body = new der.Fields("KDC-REQ-BODY", bodyElement)
  const cname = body.optional(1)
  const sname = body.optional(3)
  if (sname === undefined) throw new der.Malformed("the KDC-REQ names no server")
  return {
    msgType: tag,
    padata: padata === undefined ? [] : decodePaDataList(padata, "KDC-REQ padata"),
    bodyRaw: bodyElement.raw,
    options: der.asFlags32(body.required(0), "kdc-options"),
    cname: cname === undefined ? undefined : decodePrincipal(cname, "KDC-REQ cname"),
    realm: der.asString(body.required(2), "KDC-REQ realm"),
    sname: decodePrincipal(sname, "KDC-REQ sname"),
    till: der.asTime(body.required(5), "KDC-REQ till"),
    nonce: der.asInteger(body.required(7), "KDC-REQ nonce"),
    etypes: der.asSequenceOf(body.required(8), "KDC-REQ etype").map((e) => der.asInteger(e, "etype"))
  }
}

/** @internal */
export interface KdcRep {
  readonly msgType: 11 | 13
  readonly padata: ReadonlyArray<PaData>
  readonly crealm: string
  readonly cname: PrincipalName
  readonly ticket: Ticket
  readonly encPart: EncryptedData
}

/** @internal */
export const decodeKdcRep = (bytes: Uint8Array, msgType: 11 | 13): KdcRep => {
  const what = msgType === 11 ? "AS-REP" : "TGS-REP"
  const f = der.readApplication(bytes, msgType, what)
  if (der.asInteger(f.required(1), "msg-type") !== msgType) throw new der.Malformed(`${what} has the wrong msg-type`)
  const padata = f.optional(2)
  return {
    msgType,
    padata: padata === undefined ? [] : decodePaDataList(padata, `${what} padata`),
    crealm: der.asString(f.required(3), `${what} crealm`),
    cname: decodePrincipal(f.required(4), `${what} cname`),
    ticket: decodeTicket(f.required(5)),
    encPart: decodeEncryptedData(f.required(6), `${what} enc-part`)
  }
}

/** AS-REP or TGS-REP (for an in-process KDC). @internal */
export const encodeKdcRep = (r: KdcRep): Uint8Array =>
  der.tlv(
    der.application(r.msgType),
    der.sequence(
      der.field(0, der.integer(5)),
      der.field(1, der.integer(r.msgType)),
      der.field(2, r.padata.length === 0 ? undefined : der.sequence(...r.padata.map(encodePaData))),
      der.field(3, der.generalString(r.crealm)),
      der.field(4, encodePrincipal(r.cname)),
      der.field(5, r.ticket.raw),
      der.field(6, encodeEncryptedData(r.encPart))
    )
  )

/** @internal */
export interface EncKdcRepPart {
  readonly key: EncryptionKey
  readonly nonce: number
  readonly flags: number
  readonly authtime: number
  readonly starttime: number | undefined
  readonly endtime: number
  readonly renewTill: number | undefined
  readonly srealm: string
  readonly sname: PrincipalName
}

/** EncASRepPart ([APPLICATION 25]) or EncTGSRepPart ([APPLICATION 26]); MIT sends 25 for both at times. @internal */
export const decodeEncKdcRepPart = (bytes: Uint8Array): EncKdcRepPart => {
  const outer = der.readAt(bytes, 0)
  if (outer.tag !== der.application(25) && outer.tag !== der.application(26)) {
    throw new der.Malformed("the KDC reply's encrypted part has an unknown tag")
  }
  // Some KDCs pad the plaintext to a block; what follows the element is ignored.
  const f = new der.Fields("EncKDCRepPart", der.read(outer.content, der.Tag.sequence, "EncKDCRepPart"))
  const optionalTime = (n: number) => {
    const e = f.optional(n)
    return e === undefined ? undefined : der.asTime(e, "EncKDCRepPart time")
  }
  return {
    key: decodeKey(f.required(0), "EncKDCRepPart key"),
    nonce: der.asInteger(f.required(2), "EncKDCRepPart nonce"),
    flags: der.asFlags32(f.required(4), "EncKDCRepPart flags"),
    authtime: der.asTime(f.required(5), "EncKDCRepPart authtime"),
    starttime: optionalTime(6),
    endtime: der.asTime(f.required(7), "EncKDCRepPart endtime"),
    renewTill: optionalTime(8),
    srealm: der.asString(f.required(9), "EncKDCRepPart srealm"),
    sname: decodePrincipal(f.required(10), "EncKDCRepPart sname")
  }
}

/** EncASRepPart ([APPLICATION 25]) or EncTGSRepPart ([APPLICATION 26]), for an in-process KDC. @internal */
export const encodeEncKdcRepPart = (p: EncKdcRepPart, tgs: boolean): Uint8Array =>
  der.tlv(
    der.application(tgs ? 26 : 25),
    der.sequence(
      der.field(0, encodeKey(p.key)),
      der.field(1, der.sequence()),
      der.field(2, der.integer(p.nonce)),
      der.field(4, der.flags32(p.flags)),
      der.field(5, der.time(p.authtime)),
      der.optional(6, p.starttime, der.time),
      der.field(7, der.time(p.endtime)),
      der.optional(8, p.renewTill, der.time),
      der.field(9, der.generalString(p.srealm)),
      der.field(10, encodePrincipal(p.sname))
    )
  )

/** PA-ENC-TS-ENC: the client's time, to be encrypted with key usage 1. @internal */
export const encodePaEncTsEnc = (millis: number): Uint8Array =>
  der.sequence(der.field(0, der.time(millis)), der.field(1, der.integer((millis % 1000) * 1000)))

/** The time in a decrypted PA-ENC-TS-ENC. @internal */
export const decodePaEncTsEnc = (bytes: Uint8Array): number => {
  const f = new der.Fields("PA-ENC-TS-ENC", der.readAt(bytes, 0))
  return der.asTime(f.required(0), "patimestamp")
}

/** @internal */
export interface EtypeInfo2Entry {
  readonly etype: number
  readonly salt: string | undefined
  readonly s2kparams: Uint8Array | undefined
}

/** @internal */
export const decodeEtypeInfo2 = (bytes: Uint8Array): Array<EtypeInfo2Entry> =>
  der.asSequenceOf(der.read(bytes, der.Tag.sequence, "ETYPE-INFO2"), "ETYPE-INFO2").map((entry) => {
    const f = new der.Fields("ETYPE-INFO2-ENTRY", entry)
    const salt = f.optional(1)
    const params = f.optional(2)
    return {
      etype: der.asInteger(f.required(0), "ETYPE-INFO2 etype"),
      salt: salt === undefined ? undefined : der.asString(salt, "ETYPE-INFO2 salt"),
      s2kparams: params === undefined ? undefined : der.asOctets(params, "ETYPE-INFO2 s2kparams")
    }
  })

/** @internal */
export const encodeEtypeInfo2 = (entries: ReadonlyArray<EtypeInfo2Entry>): Uint8Array =>
  der.sequence(
    ...entries.map((e) =>
      der.sequence(
        der.field(0, der.integer(e.etype)),
        der.optional(1, e.salt, der.generalString),
        der.optional(2, e.s2kparams, der.octetString)
      )
    )
  )

/** METHOD-DATA: the e-data of KDC_ERR_PREAUTH_REQUIRED. @internal */
export const decodeMethodData = (bytes: Uint8Array): Array<PaData> =>
  decodePaDataList(der.read(bytes, der.Tag.sequence, "METHOD-DATA"), "METHOD-DATA")

/** @internal */
export interface KrbErrorMessage {
  readonly errorCode: number
  readonly stime: number
  readonly realm: string
  readonly sname: PrincipalName
  readonly eText: string | undefined
  readonly eData: Uint8Array | undefined
}

/** @internal */
export const decodeKrbError = (bytes: Uint8Array): KrbErrorMessage => {
  const f = der.readApplication(bytes, 30, "KRB-ERROR")
  const eText = f.optional(11)
  const eData = f.optional(12)
  return {
    errorCode: der.asInteger(f.required(6), "KRB-ERROR error-code"),
    stime: der.asTime(f.required(4), "KRB-ERROR stime"),
    realm: der.asString(f.required(9), "KRB-ERROR realm"),
    sname: decodePrincipal(f.required(10), "KRB-ERROR sname"),
    eText: eText === undefined ? undefined : der.asString(eText, "KRB-ERROR e-text"),
    eData: eData === undefined ? undefined : der.asOctets(eData, "KRB-ERROR e-data")
  }
}

/** KRB-ERROR, for the acceptor's refusals. @internal */
export const encodeKrbError = (e: Omit<KrbErrorMessage, "eData"> & { readonly eData?: Uint8Array }): Uint8Array =>
  der.tlv(
    der.application(30),
    der.sequence(
      der.field(0, der.integer(5)),
      der.field(1, der.integer(MsgType.error)),
      der.field(4, der.time(e.stime)),
      der.field(5, der.integer((e.stime % 1000) * 1000)),
      der.field(6, der.integer(e.errorCode)),
      der.field(9, der.generalString(e.realm)),
      der.field(10, encodePrincipal(e.sname)),
      der.optional(11, e.eText, der.generalString),
      der.optional(12, e.eData, der.octetString)
    )
  )

/** The application tag number of a Kerberos message (its first byte), to tell a reply from an error. @internal */
export const messageTag = (
  bytes: Uint8Array
): number | undefined => (bytes.length > 0 && (bytes[0]! & 0xe0) === 0x60 ? bytes[0]! & 0x1f : undefined)
