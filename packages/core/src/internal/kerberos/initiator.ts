/**
 * The initiator half of the GSS-API Kerberos mechanism (RFC 4121) inside SPNEGO (RFC 4178): the first
 * token (an AP-REQ with mutual authentication requested, a fresh subkey, and the channel-binding
 * checksum), then the check of the acceptor's answer: its AP-REP must decrypt with the session key
 * and echo our authenticator's time, and its mechListMIC, when sent, must verify.
 */
import { Either } from "effect"
import { KerberosError } from "../../KerberosError.js"
import { Malformed } from "../ntlm/bytes.js"
import { boundText } from "../serverText.js"
import { apOptionMutualRequired, decodeApRep, decodeEncApRepPart, encodeApReq, KeyUsage } from "./apMessages.js"
import { enctypeById } from "./enctypes.js"
import { errorName } from "./errorCodes.js"
import { channelBindingsHash, encodeGssChecksum, GssFlag, gssChecksumType, MicFlag, Oid, TokId, unwrapKrb5, verifyMic, wrapKrb5 } from "./gssToken.js"
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

const mutFail = (detail: string) => new KerberosError({ name: "KRB_AP_ERR_MUT_FAIL", code: 46, detail })

/** The first token. `spnego` wraps it in a NegTokenInit offering Kerberos only. @internal */
export const initiate = (credential: Credential, options: { readonly channelBindings: Uint8Array | undefined; readonly spnego: boolean; readonly now: number }) => {
  const enctype = enctypeById(credential.sessionKey.keytype)
  if (enctype === undefined) return Either.left(new KerberosError({ name: "KDC_ERR_ETYPE_NOSUPP", detail: `the ticket's session key has enctype ${credential.sessionKey.keytype}` }))
  const subkey: EncryptionKey = { keytype: enctype.id, keyvalue: crypto.getRandomValues(new Uint8Array(enctype.keyBytes)) }
  const flags = GssFlag.mutual | GssFlag.replay | GssFlag.sequence | GssFlag.conf | GssFlag.integ
  const cksum = { cksumtype: gssChecksumType, checksum: encodeGssChecksum(channelBindingsHash(options.channelBindings), flags) }
  const seqNumber = crypto.getRandomValues(new Uint32Array(1))[0]! & 0x3fffffff
  const sealed = sealAuthenticator(credential.sessionKey, KeyUsage.apReqAuthenticator, {
    crealm: credential.crealm,
    cname: credential.client,
    cksum,
    subkey,
    seqNumber,
    now: options.now
  })!
  const apReq = wrapKrb5(TokId.apReq, encodeApReq({ options: apOptionMutualRequired, ticket: credential.ticket, authenticator: sealed.encrypted }))
  const mechTypes = options.spnego ? encodeMechTypes([Oid.krb5]) : undefined
  const token = mechTypes === undefined ? apReq : encodeNegTokenInit(mechTypes, apReq)
  const pending: Pending = { sessionKey: credential.sessionKey, subkey, ctime: sealed.ctime, cusec: sealed.cusec, mechTypes }
  return Either.right({ token, pending })
}

const attempt = <A>(what: string, f: () => A): Either.Either<A, KerberosError> => {
  try {
    return Either.right(f())
  } catch (e) {
    return Either.left(new KerberosError({ name: "MALFORMED", detail: `${what}: ${e instanceof Malformed ? e.detail : String(e)}` }))
  }
}

/** Checks the acceptor's final token: mutual authentication is required, so a missing one is an error. @internal */
export const complete = (pending: Pending, serverToken: Uint8Array | undefined): Either.Either<Established, KerberosError> =>
  Either.gen(function*() {
    if (serverToken === undefined || serverToken.length === 0) return yield* Either.left(mutFail("the server sent no AP-REP: mutual authentication did not happen"))
    let krbToken = serverToken
    let mic: Uint8Array | undefined
    if (pending.mechTypes !== undefined && serverToken[0] === 0xa1) {
      const resp = yield* attempt("NegTokenResp", () => decodeNegTokenResp(serverToken))
      if (resp.negState === NegState.reject) return yield* Either.left(new KerberosError({ name: "SPNEGO_REJECT", detail: "the server rejected the Kerberos token" }))
      if (resp.supportedMech !== undefined && resp.supportedMech !== Oid.krb5 && resp.supportedMech !== Oid.msKrb5) {
        return yield* Either.left(new KerberosError({ name: "SPNEGO_BAD_MECH", detail: `the server chose mechanism ${boundText(resp.supportedMech)}, not Kerberos` }))
      }
      if (resp.responseToken === undefined) return yield* Either.left(mutFail("the server's NegTokenResp carries no AP-REP: mutual authentication did not happen"))
      krbToken = resp.responseToken
      mic = resp.mechListMic
    }
    const { tokId, inner } = yield* attempt("GSS token", () => unwrapKrb5(krbToken))
    if (tokId === TokId.error) {
      const error = yield* attempt("KRB-ERROR", () => decodeKrbError(inner))
      return yield* Either.left(new KerberosError({ name: errorName(error.errorCode), code: error.errorCode, detail: error.eText === undefined || error.eText === "" ? "the server refused the AP-REQ" : boundText(error.eText) }))
    }
    if (tokId !== TokId.apRep) return yield* Either.left(mutFail(`the server's token has TOK_ID 0x${tokId.toString(16)}, not an AP-REP`))
    const encPart = yield* attempt("AP-REP", () => decodeApRep(inner))
    const enctype = enctypeById(pending.sessionKey.keytype)!
    const plain = encPart.etype === enctype.id ? enctype.decrypt(pending.sessionKey.keyvalue, KeyUsage.apRepEncPart, encPart.cipher) : undefined
    if (plain === undefined) return yield* Either.left(mutFail("the AP-REP does not decrypt with the session key: the server does not hold the service key"))
    const part = yield* attempt("EncAPRepPart", () => decodeEncApRepPart(plain))
    if (part.ctime !== pending.ctime || part.cusec !== pending.cusec) return yield* Either.left(mutFail("the AP-REP does not echo the authenticator's time"))
    const contextKey = part.subkey ?? pending.subkey
    if (mic !== undefined && pending.mechTypes !== undefined) {
      const micEnctype = enctypeById(contextKey.keytype)
      const required = MicFlag.sentByAcceptor | (part.subkey === undefined ? 0 : MicFlag.acceptorSubkey)
      if (micEnctype === undefined || !verifyMic(micEnctype, contextKey.keyvalue, KeyUsage.acceptorSign, required, mic, pending.mechTypes)) {
        return yield* Either.left(new KerberosError({ name: "SPNEGO_BAD_MIC", detail: "the server's mechListMIC does not verify: the mechanism list may have been tampered with" }))
      }
    }
    return { contextKey, acceptorSequence: part.seqNumber }
  })
