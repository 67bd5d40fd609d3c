/**
 * The acceptor half (RFC 4120 section 3.2.3, RFC 4121, RFC 4178): an AP-REQ, raw or inside a
 * NegTokenInit, is decrypted with the service key and checked (ticket times, authenticator against
 * ticket, clock skew, replay, channel bindings), then answered with an AP-REP carrying a fresh
 * acceptor subkey and, under SPNEGO, a mechListMIC.
 */
import { KerberosFailure } from "../../Failure.js"
import { equalBytes, toHex } from "../ntlm/bytes.js"
import {
  decodeApReq,
  decodeAuthenticator,
  decodeEncTicketPart,
  encodeApRep,
  encodeEncApRepPart,
  KeyUsage
} from "./apMessages.js"
import { attempt } from "./attempt.js"
import { enctypeById } from "./enctypes.js"
import { ErrorCode, errorName, hintFor } from "./errorCodes.js"
import {
  channelBindingsHash,
  decodeGssChecksum,
  gssChecksumType,
  makeMic,
  MicFlag,
  Oid,
  TokId,
  unwrapKrb5,
  wrapKrb5
} from "./gssToken.js"
import { decodeNegTokenInit, encodeNegTokenResp, isSpnego, NegState } from "./spnego.js"
import { type EncryptionKey, type PrincipalName, principalText } from "./types.js"

/** A long-term key of the service (from a keytab or a password). @internal */
export interface ServiceKey {
  readonly principal: PrincipalName
  readonly realm: string
  readonly kvno: number
  readonly key: EncryptionKey
}

/** @internal */
export interface AcceptOptions {
  readonly keys: ReadonlyArray<ServiceKey>
  readonly now: number
  readonly skewMillis: number
  /** tls-server-end-point application data of this connection, when over TLS. */
  readonly channelBindings: Uint8Array | undefined
  /** Refuse an initiator that sent no bindings (zeros), as IIS with Extended Protection "Require" does. */
  readonly requireChannelBindings: boolean
  /** Records an authenticator; false when it was seen before (a replay). */
  readonly remember: (id: string, expiresAt: number) => boolean
}

/** @internal */
export interface Accepted {
  readonly client: string
  readonly server: string
  /** The answer for the initiator: a NegTokenResp when it spoke SPNEGO, else a raw krb5 AP-REP token. */
  readonly token: Uint8Array
  readonly sessionKey: EncryptionKey
  readonly flags: number
}

const refuse = (code: number, detail: string, hint?: string) =>
  new KerberosFailure({ reason: errorName(code), code, detail, hint })

const samePrincipal = (a: PrincipalName, b: PrincipalName) =>
  a.components.length === b.components.length &&
  a.components.every((c, i) => c.toLowerCase() === b.components[i]!.toLowerCase())

/** @internal */
export const accept = (token: Uint8Array, options: AcceptOptions): Accepted => {
  let krbToken = token
  let spnego: { readonly mech: string; readonly mechTypes: Uint8Array } | undefined
  if (isSpnego(token)) {
    const init = attempt("NegTokenInit", () => decodeNegTokenInit(token))
    const first = init.mechTypes[0]
    if ((first !== Oid.krb5 && first !== Oid.msKrb5) || init.mechToken === undefined) {
      throw new KerberosFailure({
        reason: "SPNEGO_NO_KERBEROS",
        detail: `the initiator's preferred mechanism is ${first ?? "none"}, with no Kerberos token`
      })
    }
    krbToken = init.mechToken
    spnego = { mech: first, mechTypes: init.mechTypesDer }
  }
  const { tokId, inner } = attempt("GSS token", () => unwrapKrb5(krbToken))
  if (tokId !== TokId.apReq) throw refuse(40, `expected an AP-REQ token, got TOK_ID 0x${tokId.toString(16)}`)
  const apReq = attempt("AP-REQ", () => decodeApReq(inner))
  const ticket = apReq.ticket
  const server = principalText(ticket.sname, ticket.realm)
  const candidates = options.keys.filter((k) =>
    samePrincipal(k.principal, ticket.sname) && k.realm.toUpperCase() === ticket.realm.toUpperCase()
  )
  if (candidates.length === 0) {
    throw refuse(ErrorCode.nokey, `no key for ${server}`, `add ${server} to the service keytab`)
  }
  const sameType = candidates.filter((k) => k.key.keytype === ticket.encPart.etype)
  const serviceKey = ticket.encPart.kvno === undefined
    ? sameType.sort((a, b) => b.kvno - a.kvno)[0]
    : sameType.find((k) => k.kvno === ticket.encPart.kvno)
  if (serviceKey === undefined) {
    throw refuse(
      ErrorCode.badkeyver,
      `no key of enctype ${ticket.encPart.etype}, kvno ${ticket.encPart.kvno ?? "any"} for ${server}`,
      "the keytab is older than the KDC's key: export it again"
    )
  }
  const ticketEnctype = enctypeById(serviceKey.key.keytype)!
  const ticketPlain = ticketEnctype.decrypt(serviceKey.key.keyvalue, KeyUsage.ticket, ticket.encPart.cipher)
  if (ticketPlain === undefined) {
    throw refuse(
      ErrorCode.badIntegrity,
      `the ticket does not decrypt with the key of ${server}`,
      "the keytab does not match the KDC's key: export it again"
    )
  }
  const part = attempt("EncTicketPart", () => decodeEncTicketPart(ticketPlain))
  const client = principalText(part.cname, part.crealm)
  if (options.now < (part.starttime ?? part.authtime) - options.skewMillis) {
    throw refuse(ErrorCode.tktNyv, `the ticket of ${client} is not yet valid`)
  }
  if (options.now > part.endtime + options.skewMillis) {
    throw refuse(
      ErrorCode.tktExpired,
      `the ticket of ${client} has expired`,
      hintFor(ErrorCode.tktExpired, { client, server })
    )
  }
  const sessionEnctype = enctypeById(part.key.keytype)
  const authPlain = sessionEnctype?.decrypt(part.key.keyvalue, KeyUsage.apReqAuthenticator, apReq.authenticator.cipher)
  if (authPlain === undefined) {
    throw refuse(ErrorCode.badIntegrity, "the authenticator does not decrypt with the ticket's session key")
  }
  const authenticator = attempt("Authenticator", () => decodeAuthenticator(authPlain))
  if (
    !samePrincipal(authenticator.cname, part.cname) || authenticator.crealm.toUpperCase() !== part.crealm.toUpperCase()
  ) {
    throw refuse(ErrorCode.badmatch, "the authenticator names another client than the ticket")
  }
  const skew = authenticator.ctime - options.now
  if (Math.abs(skew) > options.skewMillis) {
    throw refuse(
      ErrorCode.skew,
      `the authenticator's time is ${Math.round(skew / 1000)} s from the acceptor's`,
      hintFor(ErrorCode.skew, { client, server, skewSeconds: Math.round(-skew / 1000) })
    )
  }
  const replayId = `${client}|${authenticator.ctime}|${authenticator.cusec}|${
    toHex(apReq.authenticator.cipher.subarray(0, 16))
  }`
  if (!options.remember(replayId, authenticator.ctime + options.skewMillis)) {
    throw refuse(ErrorCode.repeat, `the authenticator of ${client} was already used (a replay)`)
  }
  const cksum = authenticator.cksum
  if (cksum === undefined || cksum.cksumtype !== gssChecksumType) {
    throw refuse(ErrorCode.inappCksum, "the authenticator carries no GSS checksum (type 0x8003)")
  }
  const gss = attempt("GSS checksum", () => decodeGssChecksum(cksum.checksum))
  const unbound = equalBytes(gss.bindings, new Uint8Array(16))
  if (unbound && options.requireChannelBindings) {
    throw refuse(
      ErrorCode.badmatch,
      "the initiator sent no channel bindings, and this acceptor requires them",
      "use a client that sends TLS channel bindings"
    )
  }
  if (!unbound && !equalBytes(gss.bindings, channelBindingsHash(options.channelBindings))) {
    throw refuse(
      ErrorCode.badmatch,
      "the channel bindings do not match this TLS connection (a proxy or interception in between?)"
    )
  }
  // The reply: a fresh acceptor subkey of the session key's type, sealed with the session key.
  const subkey: EncryptionKey = {
    keytype: part.key.keytype,
    keyvalue: crypto.getRandomValues(new Uint8Array(sessionEnctype!.keyBytes))
  }
  const seqNumber = crypto.getRandomValues(new Uint32Array(1))[0]! & 0x3fffffff
  const encApRep = encodeEncApRepPart({ ctime: authenticator.ctime, cusec: authenticator.cusec, subkey, seqNumber })
  const apRep = wrapKrb5(
    TokId.apRep,
    encodeApRep({
      etype: part.key.keytype,
      kvno: undefined,
      cipher: sessionEnctype!.encrypt(part.key.keyvalue, KeyUsage.apRepEncPart, encApRep)
    })
  )
  const answer = spnego === undefined
    ? apRep
    : encodeNegTokenResp({
      negState: NegState.acceptCompleted,
      supportedMech: spnego.mech === Oid.msKrb5 ? Oid.msKrb5 : Oid.krb5,
      responseToken: apRep,
      mechListMic: makeMic(
        sessionEnctype!,
        subkey.keyvalue,
        KeyUsage.acceptorSign,
        MicFlag.sentByAcceptor | MicFlag.acceptorSubkey,
        seqNumber,
        spnego.mechTypes
      )
    })
  return { client, server, token: answer, sessionKey: part.key, flags: gss.flags }
}
