/**
 * A minimal KDC for one realm (RFC 4120 sections 3.1.2 and 3.3.2), portable like the client: AS with
 * encrypted-timestamp pre-authentication required, and TGS for the principals it knows. Enough for
 * the simulator and for tests to run Kerberos end to end with no external KDC; not a directory:
 * no cross-realm, renewal, delegation or PAC.
 */
import { equalBytes, Malformed } from "../ntlm/bytes.js"
import type { ServiceKey } from "./acceptor.js"
import { decodeApReq, decodeAuthenticator, decodeEncTicketPart, encodeEncTicketPart, KeyUsage } from "./apMessages.js"
import { tryOrUndefined } from "./attempt.js"
import * as der from "./der.js"
import { type Enctype, enctypeById, enctypes } from "./enctypes.js"
import { ErrorCode } from "./errorCodes.js"
import * as kdc from "./kdcMessages.js"
import { decodeTicket, encodeTicket, type EncryptionKey, NameType, PaType, type PrincipalName } from "./types.js"

/** @internal */
export interface KdcOptions {
  readonly realm: string
  /** Long-term keys of every principal, `krbtgt/REALM` included. */
  readonly keys: ReadonlyArray<ServiceKey>
  readonly ticketLifetimeMillis: number
  readonly skewMillis: number
}

/** TicketFlags: forwardable (1), initial (9), pre-authent (10). */
const tgtFlags = (1 << (31 - 1)) | (1 << (31 - 9)) | (1 << (31 - 10))
const serviceFlags = (1 << (31 - 1)) | (1 << (31 - 10))

const nameKey = (p: PrincipalName) => p.components.join("/").toLowerCase()

/** What answering one decoded request needs: the request, the time, the keys, and how to refuse or issue. */
const contextFor = (options: KdcOptions, req: kdc.KdcReq, now: number) => {
  const realm = options.realm
  const krbtgt: PrincipalName = { nameType: NameType.srvInst, components: ["krbtgt", realm] }
  const refuse = (code: number, sname: PrincipalName, eText?: string, eData?: Uint8Array) =>
    kdc.encodeKrbError({ errorCode: code, stime: now, realm, sname, eText, ...(eData === undefined ? {} : { eData }) })
  const keysOf = (p: PrincipalName) => options.keys.filter((k) => nameKey(k.principal) === nameKey(p))
  /** The first enctype in the client's order that the principal has a key for. */
  const pick = (
    p: PrincipalName,
    etypes: ReadonlyArray<number>
  ): { readonly key: ServiceKey; readonly enctype: Enctype } | undefined => {
    for (const id of etypes) {
      const key = keysOf(p).find((k) => k.key.keytype === id)
      const enctype = enctypeById(id)
      if (key !== undefined && enctype !== undefined) return { key, enctype }
    }
    return undefined
  }
  const sessionKeyFor = (etypes: ReadonlyArray<number>): EncryptionKey | undefined => {
    const enctype = etypes.map(enctypeById).find((e): e is Enctype => e !== undefined)
    return enctype === undefined
      ? undefined
      : { keytype: enctype.id, keyvalue: crypto.getRandomValues(new Uint8Array(enctype.keyBytes)) }
  }
  const issue = (
    client: PrincipalName,
    server: PrincipalName,
    serverKey: { readonly key: ServiceKey; readonly enctype: Enctype },
    session: EncryptionKey,
    flags: number,
    authtime: number,
    replyKey: EncryptionKey,
    replyUsage: number,
    msgType: 11 | 13,
    padata: ReadonlyArray<{ readonly type: number; readonly value: Uint8Array }>
  ) => {
    const endtime = Math.min(req.till === 0 ? Infinity : req.till, now + options.ticketLifetimeMillis)
    const encTicket = encodeEncTicketPart({
      flags,
      key: session,
      crealm: realm,
      cname: client,
      authtime,
      starttime: now,
      endtime
    })
    const ticketRaw = encodeTicket({
      realm,
      sname: server,
      encPart: {
        etype: serverKey.enctype.id,
        kvno: serverKey.key.kvno,
        cipher: serverKey.enctype.encrypt(serverKey.key.key.keyvalue, KeyUsage.ticket, encTicket)
      }
    })
    const encPart = kdc.encodeEncKdcRepPart({
      key: session,
      nonce: req.nonce,
      flags,
      authtime,
      starttime: now,
      endtime,
      renewTill: undefined,
      srealm: realm,
      sname: server
    }, msgType === 13)
    const replyEnctype = enctypeById(replyKey.keytype)!
    return kdc.encodeKdcRep({
      msgType,
      padata,
      crealm: realm,
      cname: client,
      ticket: decodeTicket(der.readAt(ticketRaw, 0)),
      encPart: {
        etype: replyKey.keytype,
        kvno: undefined,
        cipher: replyEnctype.encrypt(replyKey.keyvalue, replyUsage, encPart)
      }
    })
  }
  return { options, req, now, realm, krbtgt, refuse, keysOf, pick, sessionKeyFor, issue }
}

type Context = ReturnType<typeof contextFor>

/** AS: a TGT for a client that proves its key with an encrypted timestamp (asked for first). */
const answerAs = (ctx: Context): Uint8Array => {
  const { issue, keysOf, krbtgt, now, options, pick, realm, refuse, req, sessionKeyFor } = ctx
  const client = req.cname
  if (client === undefined || keysOf(client).length === 0) {
    return refuse(ErrorCode.cPrincipalUnknown, req.sname, "client not found")
  }
  if (nameKey(req.sname) !== nameKey(krbtgt)) {
    return refuse(ErrorCode.sPrincipalUnknown, req.sname, "this KDC issues initial tickets for krbtgt only")
  }
  const clientKey = pick(client, req.etypes)
  const tgsKey = pick(krbtgt, enctypes.map((e) => e.id))
  const session = sessionKeyFor(req.etypes)
  if (clientKey === undefined || tgsKey === undefined || session === undefined) {
    return refuse(ErrorCode.etypeNosupp, req.sname)
  }
  const salt = realm + client.components.join("")
  const info = kdc.encodeEtypeInfo2([{ etype: clientKey.enctype.id, salt, s2kparams: undefined }])
  const timestamp = req.padata.find((p) => p.type === PaType.encTimestamp)
  if (timestamp === undefined) {
    const methods = der.sequence(
      der.sequence(der.field(1, der.integer(PaType.etypeInfo2)), der.field(2, der.octetString(info))),
      der.sequence(der.field(1, der.integer(PaType.encTimestamp)), der.field(2, der.octetString(new Uint8Array(0))))
    )
    return refuse(ErrorCode.preauthRequired, req.sname, "Additional pre-authentication required", methods)
  }
  const checked = tryOrUndefined(() => {
    const encrypted = new der.Fields("PA-ENC-TIMESTAMP", der.readAt(timestamp.value, 0))
    const etype = der.asInteger(encrypted.required(0), "etype")
    const key = keysOf(client).find((k) => k.key.keytype === etype)
    const plain = key === undefined
      ? undefined
      : enctypeById(etype)?.decrypt(
        key.key.keyvalue,
        KeyUsage.paEncTimestamp,
        der.asOctets(encrypted.required(2), "cipher")
      )
    return plain === undefined ? undefined : kdc.decodePaEncTsEnc(plain)
  })
  if (checked === undefined) return refuse(ErrorCode.preauthFailed, req.sname, "Preauthentication failed")
  if (Math.abs(checked - now) > options.skewMillis) return refuse(ErrorCode.skew, req.sname, "Clock skew too great")
  return issue(
    client,
    krbtgt,
    tgsKey,
    session,
    tgtFlags,
    now,
    clientKey.key.key,
    KeyUsage.asRepEncPart,
    kdc.MsgType.asRep,
    [{ type: PaType.etypeInfo2, value: info }]
  )
}

/** TGS: the AP-REQ in PA-TGS-REQ carries the TGT and an authenticator over the request body. */
const answerTgs = (ctx: Context): Uint8Array => {
  const { issue, keysOf, krbtgt, now, options, pick, refuse, req, sessionKeyFor } = ctx
  const tgsReq = req.padata.find((p) => p.type === PaType.tgsReq)
  if (tgsReq === undefined) return refuse(ErrorCode.generic, req.sname, "no PA-TGS-REQ")
  const result = tryOrUndefined(() => {
    const apReq = decodeApReq(tgsReq.value)
    const tgsKey = keysOf(krbtgt).find((k) => k.key.keytype === apReq.ticket.encPart.etype)
    const plain = tgsKey === undefined
      ? undefined
      : enctypeById(tgsKey.key.keytype)!.decrypt(tgsKey.key.keyvalue, KeyUsage.ticket, apReq.ticket.encPart.cipher)
    if (plain === undefined) return { code: ErrorCode.badIntegrity } as const
    const tgt = decodeEncTicketPart(plain)
    const sessionEnctype = enctypeById(tgt.key.keytype)
    const authPlain = sessionEnctype?.decrypt(
      tgt.key.keyvalue,
      KeyUsage.tgsReqAuthenticator,
      apReq.authenticator.cipher
    )
    if (authPlain === undefined) return { code: ErrorCode.badIntegrity } as const
    const authenticator = decodeAuthenticator(authPlain)
    const cksum = authenticator.cksum
    const cksumEnctype = cksum === undefined ? undefined : enctypes.find((e) => e.checksumType === cksum.cksumtype)
    const bodyOk = cksum !== undefined && cksumEnctype !== undefined && cksumEnctype.id === tgt.key.keytype &&
      equalBytes(cksumEnctype.checksum(tgt.key.keyvalue, KeyUsage.tgsReqAuthChecksum, req.bodyRaw), cksum.checksum)
    return { tgt, authenticator, bodyOk } as const
  })
  if (result === undefined) return refuse(ErrorCode.generic, req.sname, "unreadable PA-TGS-REQ")
  if ("code" in result) return refuse(result.code, req.sname)
  if (!result.bodyOk) return refuse(ErrorCode.modified, req.sname, "the request body does not match its checksum")
  if (now > result.tgt.endtime) return refuse(ErrorCode.tktExpired, req.sname)
  if (Math.abs(result.authenticator.ctime - now) > options.skewMillis) {
    return refuse(ErrorCode.skew, req.sname, "Clock skew too great")
  }
  const serverKey = pick(req.sname, enctypes.map((e) => e.id))
  if (keysOf(req.sname).length === 0) {
    return refuse(ErrorCode.sPrincipalUnknown, req.sname, "Server not found in Kerberos database")
  }
  const session = sessionKeyFor(req.etypes)
  if (serverKey === undefined || session === undefined) return refuse(ErrorCode.etypeNosupp, req.sname)
  // A subkey in the authenticator seals the reply (MIT clients send one); else the TGT's session key.
  const subkey = result.authenticator.subkey
  return issue(
    result.tgt.cname,
    req.sname,
    serverKey,
    session,
    serviceFlags,
    result.tgt.authtime,
    subkey ?? result.tgt.key,
    subkey === undefined ? KeyUsage.tgsRepEncPartSessionKey : KeyUsage.tgsRepEncPartSubkey,
    kdc.MsgType.tgsRep,
    []
  )
}

/** Answers one KDC request at `now`: the reply bytes (a KDC-REP or a KRB-ERROR), never a failure. @internal */
export const handle = (options: KdcOptions, request: Uint8Array, now: number): Uint8Array => {
  const realm = options.realm
  const krbtgt: PrincipalName = { nameType: NameType.srvInst, components: ["krbtgt", realm] }
  let req: kdc.KdcReq
  try {
    req = kdc.decodeKdcReq(request)
  } catch (e) {
    const detail = e instanceof Malformed ? e.detail : "unreadable request"
    return kdc.encodeKrbError({ errorCode: ErrorCode.generic, stime: now, realm, sname: krbtgt, eText: detail })
  }
  const ctx = contextFor(options, req, now)
  if (req.realm.toUpperCase() !== realm.toUpperCase()) {
    return ctx.refuse(ErrorCode.wrongRealm, req.sname, `this KDC serves ${realm}`)
  }
  return req.msgType === kdc.MsgType.asReq ? answerAs(ctx) : answerTgs(ctx)
}
