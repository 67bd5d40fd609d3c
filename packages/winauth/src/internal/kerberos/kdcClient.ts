/**
 * The client side of the AS and TGS exchanges (RFC 4120 sections 3.1 and 3.3): a ticket-granting
 * ticket from a password or long-term keys with encrypted-timestamp pre-authentication, then service
 * tickets with it. Replies are checked (nonce, server name, integrity) before anything is believed.
 *
 * Sans-I/O: each exchange is an async generator that yields the message to send to a realm's KDC and
 * is resumed with the reply and the time it arrived. It awaits only WebCrypto's PBKDF2 (the key from
 * a password); the network is the caller's.
 */
import { KerberosFailure } from "../../Failure.js"
import { boundText } from "../../PeerText.js"
import { encodeApReq, encodeAuthenticator, KeyUsage } from "./apMessages.js"
import { attempt } from "./attempt.js"
import * as der from "./der.js"
import { type Enctype, enctypeById, enctypes, maxIterations } from "./enctypes.js"
import { credentialRefusals, ErrorCode, errorName, hintFor } from "./errorCodes.js"
import * as kdc from "./kdcMessages.js"
import {
  type EncryptionKey,
  NameType,
  type PaData,
  PaType,
  type PrincipalName,
  principalText,
  type Ticket
} from "./types.js"

/** A message for the KDC of `realm`. @internal */
export interface KdcRequest {
  readonly _tag: "Send"
  readonly realm: string
  readonly message: Uint8Array
}

/** The KDC's answer and the time it arrived (epoch milliseconds). @internal */
export interface KdcReply {
  readonly reply: Uint8Array
  readonly now: number
}

/** An exchange: yields requests, is resumed with replies, returns its result. @internal */
export type Exchange<A> = AsyncGenerator<KdcRequest, A, KdcReply>

/** A ticket with what the client needs to use it. @internal */
export interface Credential {
  readonly client: PrincipalName
  readonly crealm: string
  readonly server: PrincipalName
  readonly srealm: string
  readonly ticket: Ticket
  readonly sessionKey: EncryptionKey
  readonly flags: number
  readonly authtime: number
  readonly starttime: number | undefined
  readonly endtime: number
  readonly renewTill: number | undefined
}

/** Where the client's long-term key comes from. @internal */
export type KeySource =
  | { readonly _tag: "Password"; readonly password: string }
  | { readonly _tag: "Keys"; readonly keys: ReadonlyArray<EncryptionKey> }

/** @internal */
export interface AsRequest {
  readonly client: PrincipalName
  readonly realm: string
  readonly keySource: KeySource
  /** Requested lifetime; the KDC caps it. */
  readonly lifetimeMillis?: number
  /**
   * Ask the KDC to canonicalize (RFC 6806; the default, as Windows clients and MIT's `kinit -C`):
   * the reply may then name the client's canonical name and realm (Active Directory answers
   * `alice@CORP` with `alice@CORP.TEST`). Without it, a reply for another name or realm is refused.
   */
  readonly canonicalize?: boolean
}

/** Principal names compare case-insensitively: KDCs canonicalize case (Active Directory does). */
const sameComponents = (a: PrincipalName, b: PrincipalName) =>
  a.components.length === b.components.length &&
  a.components.every((c, i) => c.toLowerCase() === b.components[i]!.toLowerCase())

const nonce = () => crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fffffff

const defaultSalt = (realm: string, principal: PrincipalName) =>
  new TextEncoder().encode(realm + principal.components.join(""))

/** MIT's name for key-generation parameters it refuses ("Invalid key generation parameters from KDC"). @internal */
export const badS2kParams = "KRB5_ERR_BAD_S2K_PARAMS"

/**
 * The PBKDF2 iteration count for a key derived from the password, checked as MIT's
 * `pbkdf2_string_to_key` checks it: `s2kparams` of exactly 4 bytes (a big-endian count), and no
 * fewer iterations than the enctype's default: a KDC (or anyone on the path to it) offering 1
 * iteration would turn the encrypted timestamp into a cheap offline password guess. Above
 * `maxIterations` (vedauth's cap, below MIT's 2^24) it is refused too: the derivation is CPU time.
 * Refused before anything derived from the password is sent.
 * @internal
 */
export const iterationsFor = (enctype: Enctype, params: Uint8Array | undefined): number => {
  if (params === undefined) return enctype.defaultIterations
  if (params.length !== 4) {
    throw new KerberosFailure({
      reason: badS2kParams,
      detail:
        `the KDC's s2kparams for ${enctype.name} are ${params.length} bytes long, not the 4 of an iteration count: refused, and no key derived with them`,
      hint:
        "a real KDC does not send these; check that the KDC is yours (krb5.conf [realms], the kdc option) and that nothing sits in between"
    })
  }
  const iterations = new DataView(params.buffer, params.byteOffset, 4).getUint32(0)
  if (iterations < enctype.defaultIterations) {
    throw new KerberosFailure({
      reason: badS2kParams,
      detail:
        `the KDC asks for ${iterations} PBKDF2 iterations for ${enctype.name}, fewer than the ${enctype.defaultIterations} it must use at least (as MIT requires): a key that cheap would let whoever sees the login guess the password offline: refused, and no key derived with it`,
      hint:
        "a real KDC does not ask this; check that the KDC is yours (krb5.conf [realms], the kdc option) and that nothing sits in between"
    })
  }
  if (iterations > maxIterations) {
    throw new KerberosFailure({
      reason: badS2kParams,
      detail:
        `the KDC asks for ${iterations} PBKDF2 iterations for ${enctype.name}, more than vedauth's limit of ${maxIterations} (KDCs ask for ${enctype.defaultIterations}): refused rather than spend the CPU`,
      hint:
        "use a keytab (its keys need no derivation), or ask the KDC's administrator why the account's key asks for so many iterations"
    })
  }
  return iterations
}

/**
 * The client's long-term key for one AS exchange: from the given keys, or derived from the password
 * at most once per (enctype, salt, iterations), however often the KDC names them (a pre-authentication
 * offer, then the reply's ETYPE-INFO2).
 */
const clientKeys = (source: KeySource) => {
  const derived = new Map<string, EncryptionKey>()
  const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  return async (
    etype: number,
    salt: Uint8Array,
    params: Uint8Array | undefined
  ): Promise<EncryptionKey | undefined> => {
    if (source._tag === "Keys") return source.keys.find((k) => k.keytype === etype)
    const enctype = enctypeById(etype)
    if (enctype === undefined) return undefined
    const iterations = iterationsFor(enctype, params)
    const id = `${etype}:${iterations}:${hex(salt)}`
    const known = derived.get(id)
    if (known !== undefined) return known
    const keyvalue = await enctype.stringToKey(new TextEncoder().encode(source.password), salt, iterations)
    const key = { keytype: etype, keyvalue }
    derived.set(id, key)
    return key
  }
}

/**
 * A KRB-ERROR as the failure it means: a refusal of the client's credentials names the client
 * (`refusedClient`); the KDC's own words are cut to a bounded length (a KDC may send a megabyte).
 * @internal
 */
export const fromKrbError = (
  error: kdc.KrbErrorMessage,
  context: { readonly client: string; readonly server: string; readonly now: number }
): KerberosFailure => {
  const reason = errorName(error.errorCode)
  const eText = error.eText === undefined || error.eText === "" ? undefined : boundText(error.eText)
  const hint = hintFor(error.errorCode, { ...context, skewSeconds: Math.round((error.stime - context.now) / 1000) })
  if (credentialRefusals.has(error.errorCode)) {
    return new KerberosFailure({
      reason,
      code: error.errorCode,
      detail: eText ?? `the KDC refused the credentials of ${context.client}`,
      hint,
      refusedClient: context.client
    })
  }
  return new KerberosFailure({
    reason,
    code: error.errorCode,
    detail: eText ?? `the KDC refused the request for ${context.server}`,
    hint
  })
}

const supportedEtypes = (source: KeySource): Array<number> =>
  source._tag === "Password"
    ? enctypes.map((e) => e.id)
    : enctypes.map((e) => e.id).filter((id) => source.keys.some((k) => k.keytype === id))

const noKeyFor = (etype: number) =>
  new KerberosFailure({
    reason: "KDC_ERR_ETYPE_NOSUPP",
    detail: `the AS-REP is sealed with enctype ${etype}, for which there is no key`
  })

/** The PA-ENC-TIMESTAMP pre-authentication: the time, sealed with the client's key. */
const encryptedTimestamp = (key: EncryptionKey, now: number): PaData => {
  const enctype = enctypeById(key.keytype)!
  const timestamp = enctype.encrypt(key.keyvalue, KeyUsage.paEncTimestamp, kdc.encodePaEncTsEnc(now))
  return {
    type: PaType.encTimestamp,
    value: der.sequence(der.field(0, der.integer(key.keytype)), der.field(2, der.octetString(timestamp)))
  }
}

/** AS exchange: a TGT for `client@realm`, started at `now`. @internal */
export async function* asExchange(
  request: AsRequest,
  now: number
): Exchange<{ readonly credential: Credential; readonly roundTrips: number }> {
  const clientText = principalText(request.client, request.realm)
  const krbtgt: PrincipalName = { nameType: NameType.srvInst, components: ["krbtgt", request.realm] }
  const serverText = principalText(krbtgt, request.realm)
  const etypes = supportedEtypes(request.keySource)
  // An enterprise name only means something to a KDC that may canonicalize it (RFC 6806 section 5).
  const canonicalize = request.canonicalize !== false || request.client.nameType === NameType.enterprise
  if (etypes.length === 0) {
    throw new KerberosFailure({
      reason: "KDC_ERR_ETYPE_NOSUPP",
      detail: `no AES key for ${clientText} among the given keys`,
      hint: "add an aes256-cts-hmac-sha1-96 or aes128 key to the keytab"
    })
  }
  const ask = async function*(
    padata: ReadonlyArray<PaData>,
    at: number
  ): Exchange<KdcReply & { readonly nonce: number; readonly sentAt: number }> {
    const n = nonce()
    const body = kdc.encodeReqBody({
      options: canonicalize ? kdc.defaultKdcOptions : kdc.defaultKdcOptions & ~kdc.canonicalizeOption,
      cname: request.client,
      realm: request.realm,
      sname: krbtgt,
      till: at + (request.lifetimeMillis ?? 24 * 3600_000),
      nonce: n,
      etypes
    })
    const answer = yield {
      _tag: "Send",
      realm: request.realm,
      message: kdc.encodeKdcReq(kdc.MsgType.asReq, padata, body)
    }
    return { ...answer, nonce: n, sentAt: at }
  }

  const clientKey = clientKeys(request.keySource)
  let salt = defaultSalt(request.realm, request.client)
  let params: Uint8Array | undefined
  let chosen: EncryptionKey | undefined
  let answer = yield* ask([], now)
  let roundTrips = 1
  if (kdc.messageTag(answer.reply) === kdc.MsgType.error) {
    const error = attempt("KRB-ERROR", () => kdc.decodeKrbError(answer.reply))
    if (error.errorCode !== ErrorCode.preauthRequired) {
      throw fromKrbError(error, { client: clientText, server: serverText, now: answer.now })
    }
    const methods = attempt(
      "PREAUTH_REQUIRED e-data",
      () => (error.eData === undefined ? [] : kdc.decodeMethodData(error.eData))
    )
    const info = methods.find((m) => m.type === PaType.etypeInfo2)
    const entries = info === undefined ? [] : attempt("ETYPE-INFO2", () => kdc.decodeEtypeInfo2(info.value))
    const entry = entries.find((e) => etypes.includes(e.etype))
    if (entry === undefined) {
      throw new KerberosFailure({
        reason: "KDC_ERR_ETYPE_NOSUPP",
        detail: `the KDC offers no AES enctype for ${clientText}`,
        hint: hintFor(ErrorCode.etypeNosupp, { client: clientText, server: serverText })
      })
    }
    if (entry.salt !== undefined) salt = new TextEncoder().encode(entry.salt)
    params = entry.s2kparams
    chosen = await clientKey(entry.etype, salt, params)
    answer = yield* ask([encryptedTimestamp(chosen!, answer.now)], answer.now)
    roundTrips += 1
  }
  const { reply, nonce: sentNonce, now: receivedAt } = answer
  if (kdc.messageTag(reply) === kdc.MsgType.error) {
    const error = attempt("KRB-ERROR", () => kdc.decodeKrbError(reply))
    throw fromKrbError(error, { client: clientText, server: serverText, now: receivedAt })
  }
  const rep = attempt("AS-REP", () => kdc.decodeKdcRep(reply, kdc.MsgType.asRep))
  const enctype = enctypeById(rep.encPart.etype)
  if (enctype === undefined) throw noKeyFor(rep.encPart.etype)
  const open = (key: EncryptionKey) => enctype.decrypt(key.keyvalue, KeyUsage.asRepEncPart, rep.encPart.cipher)
  // The key the KDC accepted in pre-authentication first (as MIT does): a reply that names the salt
  // again, or another one, costs no second derivation when it is sealed with that key.
  let plain = chosen?.keytype === rep.encPart.etype ? open(chosen) : undefined
  if (plain === undefined) {
    // The reply may name the salt it used (when no pre-authentication was asked for, or it changed).
    const info = rep.padata.find((p) => p.type === PaType.etypeInfo2)
    if (info !== undefined) {
      const entries = attempt("ETYPE-INFO2", () => kdc.decodeEtypeInfo2(info.value))
      const entry = entries.find((e) => e.etype === rep.encPart.etype)
      if (entry?.salt !== undefined) salt = new TextEncoder().encode(entry.salt)
      if (entry?.s2kparams !== undefined) params = entry.s2kparams
    }
    const key = await clientKey(rep.encPart.etype, salt, params)
    if (key === undefined) throw noKeyFor(rep.encPart.etype)
    // The same key as before (the same salt and count) has already failed.
    if (key !== chosen) plain = open(key)
  }
  if (plain === undefined) {
    throw new KerberosFailure({
      reason: "KDC_ERR_PREAUTH_FAILED",
      detail: "the AS-REP does not decrypt with the client key: wrong password or key",
      refusedClient: clientText
    })
  }
  const part = attempt("EncASRepPart", () => kdc.decodeEncKdcRepPart(plain))
  if (part.nonce !== sentNonce) {
    throw new KerberosFailure({
      reason: "KRB_AP_ERR_MODIFIED",
      detail: "the AS-REP answers another request (nonce mismatch)"
    })
  }
  checkAsReply(rep, part, { client: request.client, realm: request.realm, krbtgt, canonicalize })
  return { credential: credentialFrom(rep, part), roundTrips }
}

const sameRealm = (a: string, b: string) => a.toUpperCase() === b.toUpperCase()

/**
 * Whom the AS-REP names, checked as MIT's `verify_as_reply` does. The ticket must be the one the
 * encrypted part describes. Without canonicalize, the client and the TGT are exactly those asked
 * for. With it (RFC 6806), the KDC may answer with the client's canonical name and realm, but only
 * with a TGT of that realm's own KDC, `krbtgt/REALM@REALM`: a reply sealed with the client's key
 * (so from a KDC that knows it) that still cannot hand out a ticket for some other service.
 */
const checkAsReply = (
  rep: kdc.KdcRep,
  part: kdc.EncKdcRepPart,
  asked: {
    readonly client: PrincipalName
    readonly realm: string
    readonly krbtgt: PrincipalName
    readonly canonicalize: boolean
  }
) => {
  const issued = boundText(principalText(part.sname, part.srealm))
  const modified = (detail: string) => new KerberosFailure({ reason: "KRB_AP_ERR_MODIFIED", detail })
  if (!sameComponents(rep.ticket.sname, part.sname) || !sameRealm(rep.ticket.realm, part.srealm)) {
    throw modified(
      `the AS-REP's ticket is for ${
        boundText(principalText(rep.ticket.sname, rep.ticket.realm))
      }, its encrypted part says ${issued}`
    )
  }
  const askedServer = principalText(asked.krbtgt, asked.realm)
  if (!asked.canonicalize) {
    if (!sameComponents(part.sname, asked.krbtgt) || !sameRealm(part.srealm, asked.realm)) {
      throw modified(`asked for ${askedServer}, the KDC issued a ticket for ${issued}`)
    }
    if (!sameComponents(rep.cname, asked.client) || !sameRealm(rep.crealm, asked.realm)) {
      throw modified(
        `asked for a ticket for ${principalText(asked.client, asked.realm)}, the KDC issued one for ${
          boundText(principalText(rep.cname, rep.crealm))
        } (canonicalization was not asked for)`
      )
    }
    return
  }
  const canonical = rep.crealm
  const isOwnKrbtgt = part.sname.components.length === 2 && part.sname.components[0] === "krbtgt" &&
    sameRealm(part.sname.components[1]!, canonical) && sameRealm(part.srealm, canonical)
  if (!isOwnKrbtgt) {
    throw modified(
      `asked for ${askedServer}, the KDC issued a ticket for ${issued}, which is not the ticket-granting ticket of the client's realm ${
        boundText(canonical)
      }`
    )
  }
}

const credentialFrom = (rep: kdc.KdcRep, part: kdc.EncKdcRepPart): Credential => ({
  client: rep.cname,
  crealm: rep.crealm,
  server: part.sname,
  srealm: part.srealm,
  ticket: rep.ticket,
  sessionKey: part.key,
  flags: part.flags,
  authtime: part.authtime,
  starttime: part.starttime,
  endtime: part.endtime,
  renewTill: part.renewTill
})

/** Builds an Authenticator sealed with a session key. @internal */
export const sealAuthenticator = (
  sessionKey: EncryptionKey,
  usage: number,
  fields: Omit<Parameters<typeof encodeAuthenticator>[0], "ctime" | "cusec"> & { readonly now: number }
) => {
  const enctype = enctypeById(sessionKey.keytype)
  if (enctype === undefined) return undefined
  const { now, ...rest } = fields
  const ctime = Math.floor(now / 1000) * 1000
  const cusec = (now % 1000) * 1000
  return {
    ctime,
    cusec,
    encrypted: {
      etype: sessionKey.keytype,
      kvno: undefined,
      cipher: enctype.encrypt(sessionKey.keyvalue, usage, encodeAuthenticator({ ...rest, ctime, cusec }))
    }
  }
}

/** True for a ticket-granting service's name, `krbtgt/REALM`. @internal */
export const isKrbtgt = (name: PrincipalName): boolean =>
  name.components.length === 2 && name.components[0]!.toLowerCase() === "krbtgt"

/**
 * The realm whose KDC can read a TGT (it is sealed with that realm's krbtgt key): REALM of
 * `krbtgt/REALM@ISSUER`, the issuer's own for a local TGT, the next realm for a cross-realm one.
 * @internal
 */
export const tgtRealm = (tgt: Credential): string => (isKrbtgt(tgt.server) ? tgt.server.components[1]! : tgt.srealm)

/**
 * TGS exchange: a service ticket for `server` with a TGT, started at `now`, from the KDC of the
 * TGT's realm (`tgtRealm`). With `referral`, a ticket for `krbtgt/OTHER` is accepted too (RFC 6806:
 * the KDC refers the client to OTHER's KDC); the caller checks the hop. @internal
 */
export async function* tgsExchange(
  tgt: Credential,
  server: PrincipalName,
  now: number,
  referral = false
): Exchange<Credential> {
  const clientText = principalText(tgt.client, tgt.crealm)
  const realm = tgtRealm(tgt)
  const serverText = principalText(server, realm)
  const enctype = enctypeById(tgt.sessionKey.keytype)
  if (enctype === undefined) {
    throw new KerberosFailure({
      reason: "KDC_ERR_ETYPE_NOSUPP",
      detail: `the TGT's session key has enctype ${tgt.sessionKey.keytype}`
    })
  }
  const sentNonce = nonce()
  const body = kdc.encodeReqBody({
    options: kdc.defaultKdcOptions,
    cname: undefined,
    realm,
    sname: server,
    till: tgt.endtime,
    nonce: sentNonce,
    etypes: enctypes.map((e) => e.id)
  })
  const cksum = {
    cksumtype: enctype.checksumType,
    checksum: enctype.checksum(tgt.sessionKey.keyvalue, KeyUsage.tgsReqAuthChecksum, body)
  }
  const sealed = sealAuthenticator(tgt.sessionKey, KeyUsage.tgsReqAuthenticator, {
    crealm: tgt.crealm,
    cname: tgt.client,
    cksum,
    subkey: undefined,
    seqNumber: undefined,
    now
  })!
  const apReq = encodeApReq({ options: 0, ticket: tgt.ticket, authenticator: sealed.encrypted })
  const { reply, now: receivedAt } = yield {
    _tag: "Send",
    realm,
    message: kdc.encodeKdcReq(kdc.MsgType.tgsReq, [{ type: PaType.tgsReq, value: apReq }], body)
  }
  if (kdc.messageTag(reply) === kdc.MsgType.error) {
    const error = attempt("KRB-ERROR", () => kdc.decodeKrbError(reply))
    throw fromKrbError(error, { client: clientText, server: serverText, now: receivedAt })
  }
  const rep = attempt("TGS-REP", () => kdc.decodeKdcRep(reply, kdc.MsgType.tgsRep))
  const plain = enctype.decrypt(tgt.sessionKey.keyvalue, KeyUsage.tgsRepEncPartSessionKey, rep.encPart.cipher)
  if (plain === undefined) {
    throw new KerberosFailure({
      reason: "KRB_AP_ERR_BAD_INTEGRITY",
      detail: "the TGS-REP does not decrypt with the TGT session key"
    })
  }
  const part = attempt("EncTGSRepPart", () => kdc.decodeEncKdcRepPart(plain))
  if (part.nonce !== sentNonce) {
    throw new KerberosFailure({
      reason: "KRB_AP_ERR_MODIFIED",
      detail: "the TGS-REP answers another request (nonce mismatch)"
    })
  }
  if (!sameComponents(part.sname, server) && !(referral && isKrbtgt(part.sname))) {
    throw new KerberosFailure({
      reason: "KRB_AP_ERR_MODIFIED",
      detail: `asked for ${serverText}, the KDC issued a ticket for ${
        boundText(principalText(part.sname, part.srealm))
      }`
    })
  }
  return credentialFrom(rep, part)
}
