/**
 * The Kerberos 5 structures shared by every message (RFC 4120 section 5.2), as plain data, with
 * their DER encoders and total decoders (`Malformed` on anything out of shape).
 */
import * as der from "./der.js"

/** @internal */
export interface PrincipalName {
  /** 1 = NT-PRINCIPAL, 2 = NT-SRV-INST, 3 = NT-SRV-HST. */
  readonly nameType: number
  readonly components: ReadonlyArray<string>
}

/** @internal */
export interface EncryptedData {
  readonly etype: number
  readonly kvno: number | undefined
  readonly cipher: Uint8Array
}

/** @internal */
export interface EncryptionKey {
  readonly keytype: number
  readonly keyvalue: Uint8Array
}

/** @internal */
export interface Checksum {
  readonly cksumtype: number
  readonly checksum: Uint8Array
}

/** @internal */
export interface PaData {
  readonly type: number
  readonly value: Uint8Array
}

/** A ticket as it travels: the part for the service stays encrypted. @internal */
export interface Ticket {
  readonly realm: string
  readonly sname: PrincipalName
  readonly encPart: EncryptedData
  /** The DER as received, sent back unchanged (re-encoding could differ from what the KDC sealed). */
  readonly raw: Uint8Array
}

/** @internal */
/** NT-ENTERPRISE (10, RFC 6806): one component, `user@suffix` (a UPN or `user@NETBIOS`), resolved by the KDC. */
export const NameType = { principal: 1, srvInst: 2, srvHst: 3, enterprise: 10 } as const

/** Pre-authentication data types (RFC 4120 section 7.5.2, RFC 6113). @internal */
export const PaType = { tgsReq: 1, encTimestamp: 2, etypeInfo2: 19, pacRequest: 128 } as const

export const encodePrincipal = (p: PrincipalName): Uint8Array =>
  der.sequence(
    der.field(0, der.integer(p.nameType)),
    der.field(1, der.sequence(...p.components.map(der.generalString)))
  )

export const decodePrincipal = (e: der.Element, what: string): PrincipalName => {
  const f = new der.Fields(what, e)
  return {
    nameType: der.asInteger(f.required(0), `${what} name-type`),
    components: der.asSequenceOf(f.required(1), `${what} name-string`).map((c) => der.asString(c, `${what} component`))
  }
}

export const encodeEncryptedData = (d: EncryptedData): Uint8Array =>
  der.sequence(
    der.field(0, der.integer(d.etype)),
    der.optional(1, d.kvno, der.integer),
    der.field(2, der.octetString(d.cipher))
  )

export const decodeEncryptedData = (e: der.Element, what: string): EncryptedData => {
  const f = new der.Fields(what, e)
  const kvno = f.optional(1)
  return {
    etype: der.asInteger(f.required(0), `${what} etype`),
    kvno: kvno === undefined ? undefined : der.asInteger(kvno, `${what} kvno`),
    cipher: der.asOctets(f.required(2), `${what} cipher`)
  }
}

export const encodeKey = (k: EncryptionKey): Uint8Array =>
  der.sequence(der.field(0, der.integer(k.keytype)), der.field(1, der.octetString(k.keyvalue)))

export const decodeKey = (e: der.Element, what: string): EncryptionKey => {
  const f = new der.Fields(what, e)
  return {
    keytype: der.asInteger(f.required(0), `${what} keytype`),
    keyvalue: der.asOctets(f.required(1), `${what} keyvalue`)
  }
}

export const encodeChecksum = (c: Checksum): Uint8Array =>
  der.sequence(der.field(0, der.integer(c.cksumtype)), der.field(1, der.octetString(c.checksum)))

export const decodeChecksum = (e: der.Element, what: string): Checksum => {
  const f = new der.Fields(what, e)
  return {
    cksumtype: der.asInteger(f.required(0), `${what} cksumtype`),
    checksum: der.asOctets(f.required(1), `${what} checksum`)
  }
}

export const encodePaData = (p: PaData): Uint8Array =>
  der.sequence(der.field(1, der.integer(p.type)), der.field(2, der.octetString(p.value)))

export const decodePaDataList = (e: der.Element, what: string): Array<PaData> =>
  der.asSequenceOf(e, what).map((item) => {
    const f = new der.Fields(what, item)
    return { type: der.asInteger(f.required(1), `${what} type`), value: der.asOctets(f.required(2), `${what} value`) }
  })

export const encodeTicket = (t: Omit<Ticket, "raw">): Uint8Array =>
  der.tlv(
    der.application(1),
    der.sequence(
      der.field(0, der.integer(5)),
      der.field(1, der.generalString(t.realm)),
      der.field(2, encodePrincipal(t.sname)),
      der.field(3, encodeEncryptedData(t.encPart))
    )
  )

export const decodeTicket = (e: der.Element): Ticket => {
  if (e.tag !== der.application(1)) throw new der.Malformed("a Ticket is not [APPLICATION 1]")
  const f = new der.Fields("Ticket", der.read(e.content, der.Tag.sequence, "Ticket"))
  if (der.asInteger(f.required(0), "tkt-vno") !== 5) throw new der.Malformed("a Ticket is not version 5")
  return {
    realm: der.asString(f.required(1), "Ticket realm"),
    sname: decodePrincipal(f.required(2), "Ticket sname"),
    encPart: decodeEncryptedData(f.required(3), "Ticket enc-part"),
    raw: e.raw
  }
}

/** `name/instance@REALM` for messages and errors (never a secret). @internal */
export const principalText = (p: PrincipalName, realm: string): string => `${p.components.join("/")}@${realm}`
