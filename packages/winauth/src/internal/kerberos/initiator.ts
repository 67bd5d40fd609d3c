/**
 * The initiator half of the GSS-API Kerberos mechanism (RFC 4121) inside SPNEGO (RFC 4178): the first
 * token (an AP-REQ with mutual authentication requested, a fresh subkey, and the channel-binding
 * checksum), then the check of the acceptor's answer: its AP-REP must decrypt with the session key
 * and echo our authenticator's time, and its mechListMIC, when sent, must verify.
 */
import { KerberosFailure } from "../../Failure.js"
import { boundText } from "../../PeerText.js"
import { apOptionMutualRequired, decodeApRep, decodeEncApRepPart, encodeApReq, KeyUsage } from "./apMessages.js"
import { attempt } from "./attempt.js"
import { enctypeById } from "./enctypes.js"
import { errorName } from "./errorCodes.js"
import {
  channelBindingsHash,
  encodeGssChecksum,
  gssChecksumType,
  GssFlag,
  MicFlag,
  Oid,
  TokId,
  unwrapKrb5,
  verifyMic,
  wrapKrb5
} from "./gssToken.js"
import type { Credential } from "./kdcClient.js"
import { sealAuthenticator } from "./kdcClient.js"
import { decodeKrbError } from "./kdcMessages.js"
import { decodeNegTokenResp, encodeMechTypes, encodeNegTokenInit, NegState } from "./spnego.js"
import type { EncryptionKey } from "./types.js"

/** What the initiator remembers between its token and the acceptor's answer. @internal */
export interface Pending {
  readonly sessionKey: EncryptionKey
  readonly subkey: EncryptionKey
  readonly ctime: number
  readonly cusec: number
  readonly mechTypes: Uint8Array | undefined
}

/** @internal */
export interface Established {
  /** The acceptor's subkey when it sent one, else ours: the key for later MIC and wrap tokens. */
  readonly contextKey: EncryptionKey
  readonly acceptorSequence: number | undefined
}

const mutFail = (detail: string) => new KerberosFailure({ reason: "KRB_AP_ERR_MUT_FAIL", code: 46, detail })

/** The first token. `spnego` wraps it in a NegTokenInit offering Kerberos only. @internal */
export const initiate = (
  credential: Credential,
  options: { readonly channelBindings: Uint8Array | undefined; readonly spnego: boolean; readonly now: number }
) => {
  const enctype = enctypeById(credential.sessionKey.keytype)
  if (enctype === undefined) {
    throw new KerberosFailure({
      reason: "KDC_ERR_ETYPE_NOSUPP",
      detail: `the ticket's session key has enctype ${credential.sessionKey.keytype}`
    })
  }
  const subkey: EncryptionKey = {
    keytype: enctype.id,
    keyvalue: crypto.getRandomValues(new Uint8Array(enctype.keyBytes))
  }
  const flags = GssFlag.mutual | GssFlag.replay | GssFlag.sequence | GssFlag.conf | GssFlag.integ
  const cksum = {
    cksumtype: gssChecksumType,
    checksum: encodeGssChecksum(channelBindingsHash(options.channelBindings), flags)
  }
  const seqNumber = crypto.getRandomValues(new Uint32Array(1))[0]! & 0x3fffffff
  const sealed = sealAuthenticator(credential.sessionKey, KeyUsage.apReqAuthenticator, {
    crealm: credential.crealm,
    cname: credential.client,
    cksum,
    subkey,
    seqNumber,
    now: options.now
  })!
  const apReq = wrapKrb5(
    TokId.apReq,
    encodeApReq({ options: apOptionMutualRequired, ticket: credential.ticket, authenticator: sealed.encrypted })
  )
  const mechTypes = options.spnego ? encodeMechTypes([Oid.krb5]) : undefined
  const token = mechTypes === undefined ? apReq : encodeNegTokenInit(mechTypes, apReq)
  const pending: Pending = {
    sessionKey: credential.sessionKey,
    subkey,
    ctime: sealed.ctime,
    cusec: sealed.cusec,
    mechTypes
  }
  return { token, pending }
}

/** Checks the acceptor's final token: mutual authentication is required, so a missing one is an error. @internal */
export const complete = (pending: Pending, serverToken: Uint8Array | undefined): Established => {
  if (serverToken === undefined || serverToken.length === 0) {
    throw mutFail("the server sent no AP-REP: mutual authentication did not happen")
  }
  let krbToken = serverToken
  let mic: Uint8Array | undefined
  if (pending.mechTypes !== undefined && serverToken[0] === 0xa1) {
    const resp = attempt("NegTokenResp", () => decodeNegTokenResp(serverToken))
    if (resp.negState === NegState.reject) {
      throw new KerberosFailure({ reason: "SPNEGO_REJECT", detail: "the server rejected the Kerberos token" })
    }
    if (resp.supportedMech !== undefined && resp.supportedMech !== Oid.krb5 && resp.supportedMech !== Oid.msKrb5) {
      throw new KerberosFailure({
        reason: "SPNEGO_BAD_MECH",
        detail: `the server chose mechanism ${boundText(resp.supportedMech)}, not Kerberos`
      })
    }
    if (resp.responseToken === undefined) {
      throw mutFail("the server's NegTokenResp carries no AP-REP: mutual authentication did not happen")
    }
    krbToken = resp.responseToken
    mic = resp.mechListMic
  }
  const { tokId, inner } = attempt("GSS token", () => unwrapKrb5(krbToken))
  if (tokId === TokId.error) {
    const error = attempt("KRB-ERROR", () => decodeKrbError(inner))
    throw new KerberosFailure({
      reason: errorName(error.errorCode),
      code: error.errorCode,
      detail: error.eText === undefined || error.eText === ""
        ? "the server refused the AP-REQ"
        : boundText(error.eText)
    })
  }
  if (tokId !== TokId.apRep) throw mutFail(`the server's token has TOK_ID 0x${tokId.toString(16)}, not an AP-REP`)
  const encPart = attempt("AP-REP", () => decodeApRep(inner))
  const enctype = enctypeById(pending.sessionKey.keytype)!
  const plain = encPart.etype === enctype.id
    ? enctype.decrypt(pending.sessionKey.keyvalue, KeyUsage.apRepEncPart, encPart.cipher)
    : undefined
  if (plain === undefined) {
    throw mutFail("the AP-REP does not decrypt with the session key: the server does not hold the service key")
  }
  const part = attempt("EncAPRepPart", () => decodeEncApRepPart(plain))
  if (part.ctime !== pending.ctime || part.cusec !== pending.cusec) {
    throw mutFail("the AP-REP does not echo the authenticator's time")
  }
  const contextKey = part.subkey ?? pending.subkey
  if (mic !== undefined && pending.mechTypes !== undefined) {
    const micEnctype = enctypeById(contextKey.keytype)
    const required = MicFlag.sentByAcceptor | (part.subkey === undefined ? 0 : MicFlag.acceptorSubkey)
    if (
      micEnctype === undefined ||
      !verifyMic(micEnctype, contextKey.keyvalue, KeyUsage.acceptorSign, required, mic, pending.mechTypes)
    ) {
      throw new KerberosFailure({
        reason: "SPNEGO_BAD_MIC",
        detail: "the server's mechListMIC does not verify: the mechanism list may have been tampered with"
      })
    }
  }
  return { contextKey, acceptorSequence: part.seqNumber }
}
