/**
 * Client-server messages (RFC 4120 section 5.5 and 5.3): AP-REQ with its Authenticator, AP-REP with
 * its EncAPRepPart, and the EncTicketPart the acceptor decrypts with its service key.
 */
import * as der from "./der.js"
import {
  type Checksum,
  decodeChecksum,
  decodeEncryptedData,
  decodeKey,
  decodePrincipal,
  decodeTicket,
  encodeChecksum,
  encodeEncryptedData,
  encodeKey,
  encodePrincipal,
  type EncryptedData,
  type EncryptionKey,
  type PrincipalName,
  type Ticket
} from "./types.js"

/** APOptions: mutual-required (bit 2). @internal */
export const apOptionMutualRequired = 1 << (31 - 2)

/** Key usages (RFC 4120 section 7.5.1, RFC 4121 section 2). @internal */
export const KeyUsage = {
  paEncTimestamp: 1,
  ticket: 2,
  asRepEncPart: 3,
  tgsReqAuthChecksum: 6,
  tgsReqAuthenticator: 7,
  tgsRepEncPartSessionKey: 8,
  tgsRepEncPartSubkey: 9,
  apReqAuthChecksum: 10,
  apReqAuthenticator: 11,
  apRepEncPart: 12,
  acceptorSign: 23,
  initiatorSign: 25
} as const

/** @internal */
export interface Authenticator {
  readonly crealm: string
  readonly cname: PrincipalName
  readonly cksum: Checksum | undefined
  readonly cusec: number
  readonly ctime: number
  readonly subkey: EncryptionKey | undefined
  readonly seqNumber: number | undefined
}

/** @internal */
export const encodeAuthenticator = (a: Authenticator): Uint8Array =>
  der.tlv(
    der.application(2),
    der.sequence(
      der.field(0, der.integer(5)),
      der.field(1, der.generalString(a.crealm)),
      der.field(2, encodePrincipal(a.cname)),
      der.optional(3, a.cksum, encodeChecksum),
      der.field(4, der.integer(a.cusec)),
      der.field(5, der.time(a.ctime)),
      der.optional(6, a.subkey, encodeKey),
      der.optional(7, a.seqNumber, der.integer)
    )
  )

/** @internal */
export const decodeAuthenticator = (bytes: Uint8Array): Authenticator => {
  const f = applicationPrefix(bytes, 2, "Authenticator")
  if (der.asInteger(f.required(0), "authenticator-vno") !== 5) {
    throw new der.Malformed("the Authenticator is not version 5")
  }
  const cksum = f.optional(3)
  const subkey = f.optional(6)
  const seq = f.optional(7)
  return {
    crealm: der.asString(f.required(1), "Authenticator crealm"),
    cname: decodePrincipal(f.required(2), "Authenticator cname"),
    cksum: cksum === undefined ? undefined : decodeChecksum(cksum, "Authenticator cksum"),
    cusec: der.asInteger(f.required(4), "Authenticator cusec"),
    ctime: der.asTime(f.required(5), "Authenticator ctime"),
    subkey: subkey === undefined ? undefined : decodeKey(subkey, "Authenticator subkey"),
    seqNumber: seq === undefined ? undefined : der.asInteger(seq, "Authenticator seq-number")
  }
}

/** @internal */
export interface ApReq {
  readonly options: number
  readonly ticket: Ticket
  readonly authenticator: EncryptedData
}

/** @internal */
export const encodeApReq = (r: ApReq): Uint8Array =>
  der.tlv(
    der.application(14),
    der.sequence(
      der.field(0, der.integer(5)),
      der.field(1, der.integer(14)),
      der.field(2, der.flags32(r.options)),
      der.field(3, r.ticket.raw),
      der.field(4, encodeEncryptedData(r.authenticator))
    )
  )

/** @internal */
export const decodeApReq = (bytes: Uint8Array): ApReq => {
  const f = der.readApplication(bytes, 14, "AP-REQ")
  if (der.asInteger(f.required(0), "AP-REQ pvno") !== 5) throw new der.Malformed("the AP-REQ is not Kerberos 5")
  if (der.asInteger(f.required(1), "AP-REQ msg-type") !== 14) {
    throw new der.Malformed("the AP-REQ has the wrong msg-type")
  }
  return {
    options: der.asFlags32(f.required(2), "AP-REQ ap-options"),
    ticket: decodeTicket(f.required(3)),
    authenticator: decodeEncryptedData(f.required(4), "AP-REQ authenticator")
  }
}

/** @internal */
export interface EncApRepPart {
  readonly ctime: number
  readonly cusec: number
  readonly subkey: EncryptionKey | undefined
  readonly seqNumber: number | undefined
}

/** @internal */
export const encodeEncApRepPart = (p: EncApRepPart): Uint8Array =>
  der.tlv(
    der.application(27),
    der.sequence(
      der.field(0, der.time(p.ctime)),
      der.field(1, der.integer(p.cusec)),
      der.optional(2, p.subkey, encodeKey),
      der.optional(3, p.seqNumber, der.integer)
    )
  )

/** @internal */
export const decodeEncApRepPart = (bytes: Uint8Array): EncApRepPart => {
  const f = applicationPrefix(bytes, 27, "EncAPRepPart")
  const subkey = f.optional(2)
  const seq = f.optional(3)
  return {
    ctime: der.asTime(f.required(0), "EncAPRepPart ctime"),
    cusec: der.asInteger(f.required(1), "EncAPRepPart cusec"),
    subkey: subkey === undefined ? undefined : decodeKey(subkey, "EncAPRepPart subkey"),
    seqNumber: seq === undefined ? undefined : der.asInteger(seq, "EncAPRepPart seq-number")
  }
}

/** @internal */
export const encodeApRep = (encPart: EncryptedData): Uint8Array =>
  der.tlv(
    der.application(15),
    der.sequence(
      der.field(0, der.integer(5)),
      der.field(1, der.integer(15)),
      der.field(2, encodeEncryptedData(encPart))
    )
  )

/** @internal */
export const decodeApRep = (bytes: Uint8Array): EncryptedData => {
  const f = der.readApplication(bytes, 15, "AP-REP")
  if (der.asInteger(f.required(1), "AP-REP msg-type") !== 15) {
    throw new der.Malformed("the AP-REP has the wrong msg-type")
  }
  return decodeEncryptedData(f.required(2), "AP-REP enc-part")
}

/** @internal */
export interface EncTicketPart {
  readonly flags: number
  readonly key: EncryptionKey
  readonly crealm: string
  readonly cname: PrincipalName
  readonly authtime: number
  readonly starttime: number | undefined
  readonly endtime: number
}

/** @internal */
export const encodeEncTicketPart = (t: EncTicketPart): Uint8Array =>
  der.tlv(
    der.application(3),
    der.sequence(
      der.field(0, der.flags32(t.flags)),
      der.field(1, encodeKey(t.key)),
      der.field(2, der.generalString(t.crealm)),
      der.field(3, encodePrincipal(t.cname)),
      der.field(4, der.sequence(der.field(0, der.integer(1)), der.field(1, der.octetString(new Uint8Array(0))))),
      der.field(5, der.time(t.authtime)),
      der.optional(6, t.starttime, der.time),
      der.field(7, der.time(t.endtime))
    )
  )

/** @internal */
export const decodeEncTicketPart = (bytes: Uint8Array): EncTicketPart => {
  const f = applicationPrefix(bytes, 3, "EncTicketPart")
  const start = f.optional(6)
  return {
    flags: der.asFlags32(f.required(0), "EncTicketPart flags"),
    key: decodeKey(f.required(1), "EncTicketPart key"),
    crealm: der.asString(f.required(2), "EncTicketPart crealm"),
    cname: decodePrincipal(f.required(3), "EncTicketPart cname"),
    authtime: der.asTime(f.required(5), "EncTicketPart authtime"),
    starttime: start === undefined ? undefined : der.asTime(start, "EncTicketPart starttime"),
    endtime: der.asTime(f.required(7), "EncTicketPart endtime")
  }
}

/** Decrypted parts may carry padding after the element: read the element at the start only. */
const applicationPrefix = (bytes: Uint8Array, n: number, what: string): der.Fields => {
  const outer = der.readAt(bytes, 0)
  if (outer.tag !== der.application(n)) throw new der.Malformed(`${what} is not [APPLICATION ${n}]`)
  return new der.Fields(what, der.read(outer.content, der.Tag.sequence, what))
}
