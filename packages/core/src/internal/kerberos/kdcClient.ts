/**
 * The client side of the AS and TGS exchanges (RFC 4120 sections 3.1 and 3.3): a ticket-granting
 * ticket from a password or long-term keys with encrypted-timestamp pre-authentication, then service
 * tickets with it. Replies are checked (nonce, server name, integrity) before anything is believed.
 */
import { Clock, Effect, Either, Redacted } from "effect"
import type { KdcAddress } from "../../KdcTransport.js"
import { KdcTransport } from "../../KdcTransport.js"
import { KerberosError } from "../../KerberosError.js"
import { AuthenticationFailed, TransportError } from "../../VedAuthError.js"
import { boundText } from "../serverText.js"
import { encodeApReq, encodeAuthenticator, KeyUsage } from "./apMessages.js"
import * as der from "./der.js"
import { type Enctype, enctypeById, enctypes, maxIterations } from "./enctypes.js"
import { credentialRefusals, ErrorCode, errorName, hintFor } from "./errorCodes.js"
import * as kdc from "./kdcMessages.js"
import { type EncryptionKey, NameType, PaType, type PaData, type PrincipalName, principalText, type Ticket } from "./types.js"

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
  | { readonly _tag: "Password"; readonly password: Redacted.Redacted<string> }
  | { readonly _tag: "Keys"; readonly keys: ReadonlyArray<EncryptionKey> }

/** @internal */
export interface AsRequest {
  readonly kdcs: ReadonlyArray<KdcAddress>
  readonly client: PrincipalName
  readonly realm: string
  readonly keySource: KeySource
  /** Requested lifetime; the KDC caps it. */
  readonly lifetimeMillis?: number
}

type Failure = AuthenticationFailed | KerberosError | TransportError

const malformed = (what: string, detail: string) => new KerberosError({ name: "MALFORMED", detail: `${what}: ${detail}` })

/** Runs a decoder, turning `Malformed` into a typed error. @internal */
export const decode = <A>(what: string, f: () => A): Effect.Effect<A, KerberosError> =>
  Effect.try({ try: f, catch: (e) => malformed(what, e instanceof der.Malformed ? e.detail : String(e)) })

/** Sends to each KDC in turn until one answers. @internal */
export const sendToKdc = (kdcs: ReadonlyArray<KdcAddress>, message: Uint8Array) =>
  Effect.gen(function*() {
    const transport = yield* KdcTransport
    if (kdcs.length === 0) return yield* new TransportError({ detail: "no KDC is known for the realm" })
    let last: TransportError | undefined
    for (const address of kdcs) {
      const reply = yield* transport.send(address, message).pipe(Effect.either)
      if (reply._tag === "Right") return reply.right
      last = reply.left
    }
    return yield* Effect.fail(last!)
  })

/** Principal names compare case-insensitively: KDCs canonicalize case (Active Directory does). */
const sameComponents = (a: PrincipalName, b: PrincipalName) =>
  a.components.length === b.components.length && a.components.every((c, i) => c.toLowerCase() === b.components[i]!.toLowerCase())

const nonce = () => crypto.getRandomValues(new Uint32Array(1))[0]! & 0x7fffffff

const defaultSalt = (realm: string, principal: PrincipalName) => new TextEncoder().encode(realm + principal.components.join(""))

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
export const iterationsFor = (enctype: Enctype, params: Uint8Array | undefined): Either.Either<number, KerberosError> => {
  if (params === undefined) return Either.right(enctype.defaultIterations)
  if (params.length !== 4) {
    return Either.left(new KerberosError({
      name: badS2kParams,
      detail: `the KDC's s2kparams for ${enctype.name} are ${params.length} bytes long, not the 4 of an iteration count: refused, and no key derived with them`,
      hint: "a real KDC does not send these; check that the KDC is yours (krb5.conf [realms], the kdc option) and that nothing sits in between"
    }))
  }
  const iterations = new DataView(params.buffer, params.byteOffset, 4).getUint32(0)
  if (iterations < enctype.defaultIterations) {
    return Either.left(new KerberosError({
      name: badS2kParams,
      detail: `the KDC asks for ${iterations} PBKDF2 iterations for ${enctype.name}, fewer than the ${enctype.defaultIterations} it must use at least (as MIT requires): a key that cheap would let whoever sees the login guess the password offline: refused, and no key derived with it`,
      hint: "a real KDC does not ask this; check that the KDC is yours (krb5.conf [realms], the kdc option) and that nothing sits in between"
    }))
  }
  if (iterations > maxIterations) {
    return Either.left(new KerberosError({
      name: badS2kParams,
      detail: `the KDC asks for ${iterations} PBKDF2 iterations for ${enctype.name}, more than vedauth's limit of ${maxIterations} (KDCs ask for ${enctype.defaultIterations}): refused rather than spend the CPU`,
      hint: "use a keytab (its keys need no derivation), or ask the KDC's administrator why the account's key asks for so many iterations"
    }))
  }
  return Either.right(iterations)
}

/**
 * The client's long-term key for one AS exchange: from the given keys, or derived from the password
 * at most once per (enctype, salt, iterations), however often the KDC names them (a pre-authentication
 * offer, then the reply's ETYPE-INFO2).
 */
const clientKeys = (source: KeySource) => {
  const derived = new Map<string, EncryptionKey>()
  const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")
  return (etype: number, salt: Uint8Array, params: Uint8Array | undefined): Effect.Effect<EncryptionKey | undefined, KerberosError> => {
    if (source._tag === "Keys") return Effect.succeed(source.keys.find((k) => k.keytype === etype))
    const enctype = enctypeById(etype)
    if (enctype === undefined) return Effect.succeed(undefined)
    return Effect.flatMap(iterationsFor(enctype, params), (iterations) => {
      const id = `${etype}:${iterations}:${hex(salt)}`
      const known = derived.get(id)
      if (known !== undefined) return Effect.succeed(known)
      const password = new TextEncoder().encode(Redacted.value(source.password))
      return Effect.map(enctype.stringToKey(password, salt, iterations), (keyvalue) => {
        const key = { keytype: etype, keyvalue }
        derived.set(id, key)
        return key
      })
    })
  }
}

/** A KRB-ERROR as the typed error it means. @internal */
export const fromKrbError = (error: kdc.KrbErrorMessage, context: { readonly client: string; readonly server: string; readonly now: number }): Failure => {
  const name = errorName(error.errorCode)
  // The KDC's own words, cut to a bounded length: a KDC may send a megabyte of e-text.
  const eText = error.eText === undefined || error.eText === "" ? undefined : boundText(error.eText)
  const text = eText === undefined ? name : `${name}: ${eText}`
  const hint = hintFor(error.errorCode, { ...context, skewSeconds: Math.round((error.stime - context.now) / 1000) })
  if (credentialRefusals.has(error.errorCode)) {
    return new AuthenticationFailed({ description: hint === undefined ? text : `${text} (${hint})`, user: context.client })
  }
  return new KerberosError({ name, code: error.errorCode, detail: eText ?? `the KDC refused the request for ${context.server}`, ...(hint === undefined ? {} : { hint }) })
}

const supportedEtypes = (source: KeySource): Array<number> =>
  source._tag === "Password" ? enctypes.map((e) => e.id) : enctypes.map((e) => e.id).filter((id) => source.keys.some((k) => k.keytype === id))

/** AS exchange: a TGT for `client@realm`. @internal */
export const asExchange = (request: AsRequest): Effect.Effect<{ readonly credential: Credential; readonly roundTrips: number }, Failure, KdcTransport> =>
  Effect.gen(function*() {
    const clientText = principalText(request.client, request.realm)
    const krbtgt: PrincipalName = { nameType: NameType.srvInst, components: ["krbtgt", request.realm] }
    const serverText = principalText(krbtgt, request.realm)
    const etypes = supportedEtypes(request.keySource)
    if (etypes.length === 0) {
      return yield* new KerberosError({ name: "KDC_ERR_ETYPE_NOSUPP", detail: `no AES key for ${clientText} among the given keys`, hint: "add an aes256-cts-hmac-sha1-96 or aes128 key to the keytab" })
    }
    const ask = (padata: ReadonlyArray<PaData>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const n = nonce()
        const body = kdc.encodeReqBody({
          options: kdc.defaultKdcOptions,
          cname: request.client,
          realm: request.realm,
          sname: krbtgt,
          till: now + (request.lifetimeMillis ?? 24 * 3600_000),
          nonce: n,
          etypes
        })
        const reply = yield* sendToKdc(request.kdcs, kdc.encodeKdcReq(kdc.MsgType.asReq, padata, body))
        return { reply, nonce: n, now }
      })

    const clientKey = clientKeys(request.keySource)
    let salt = defaultSalt(request.realm, request.client)
    let params: Uint8Array | undefined
    let chosen: EncryptionKey | undefined
    let first = yield* ask([])
    let roundTrips = 1
    if (kdc.messageTag(first.reply) === kdc.MsgType.error) {
      const error = yield* decode("KRB-ERROR", () => kdc.decodeKrbError(first.reply))
      if (error.errorCode !== ErrorCode.preauthRequired) return yield* fromKrbError(error, { client: clientText, server: serverText, now: first.now })
      const methods = yield* decode("PREAUTH_REQUIRED e-data", () => (error.eData === undefined ? [] : kdc.decodeMethodData(error.eData)))
      const info = methods.find((m) => m.type === PaType.etypeInfo2)
      const entries = info === undefined ? [] : yield* decode("ETYPE-INFO2", () => kdc.decodeEtypeInfo2(info.value))
      const entry = entries.find((e) => etypes.includes(e.etype))
      if (entry === undefined) {
        return yield* new KerberosError({ name: "KDC_ERR_ETYPE_NOSUPP", detail: `the KDC offers no AES enctype for ${clientText}`, hint: hintFor(ErrorCode.etypeNosupp, { client: clientText, server: serverText })! })
      }
      if (entry.salt !== undefined) salt = new TextEncoder().encode(entry.salt)
      params = entry.s2kparams
      chosen = yield* clientKey(entry.etype, salt, params)
      const enctype = enctypeById(entry.etype)!
      const now = yield* Clock.currentTimeMillis
      const timestamp = enctype.encrypt(chosen!.keyvalue, KeyUsage.paEncTimestamp, kdc.encodePaEncTsEnc(now))
      const encrypted = der.sequence(der.field(0, der.integer(entry.etype)), der.field(2, der.octetString(timestamp)))
      first = yield* ask([{ type: PaType.encTimestamp, value: encrypted }])
      roundTrips += 1
    }
    const { reply, nonce: sentNonce, now } = first
    if (kdc.messageTag(reply) === kdc.MsgType.error) {
      const error = yield* decode("KRB-ERROR", () => kdc.decodeKrbError(reply))
      return yield* fromKrbError(error, { client: clientText, server: serverText, now })
    }
    const rep = yield* decode("AS-REP", () => kdc.decodeKdcRep(reply, kdc.MsgType.asRep))
    const enctype = enctypeById(rep.encPart.etype)
    if (enctype === undefined) {
      return yield* new KerberosError({ name: "KDC_ERR_ETYPE_NOSUPP", detail: `the AS-REP is sealed with enctype ${rep.encPart.etype}, for which there is no key` })
    }
    const open = (key: EncryptionKey) => enctype.decrypt(key.keyvalue, KeyUsage.asRepEncPart, rep.encPart.cipher)
    // The key the KDC accepted in pre-authentication first (as MIT does): a reply that names the salt
    // again, or another one, costs no second derivation when it is sealed with that key.
    let plain = chosen?.keytype === rep.encPart.etype ? open(chosen) : undefined
    if (plain === undefined) {
      // The reply may name the salt it used (when no pre-authentication was asked for, or it changed).
      const info = rep.padata.find((p) => p.type === PaType.etypeInfo2)
      if (info !== undefined) {
        const entries = yield* decode("ETYPE-INFO2", () => kdc.decodeEtypeInfo2(info.value))
        const entry = entries.find((e) => e.etype === rep.encPart.etype)
        if (entry?.salt !== undefined) salt = new TextEncoder().encode(entry.salt)
        if (entry?.s2kparams !== undefined) params = entry.s2kparams
      }
      const key = yield* clientKey(rep.encPart.etype, salt, params)
      if (key === undefined) {
        return yield* new KerberosError({ name: "KDC_ERR_ETYPE_NOSUPP", detail: `the AS-REP is sealed with enctype ${rep.encPart.etype}, for which there is no key` })
      }
      // The same key as before (the same salt and count) has already failed.
      if (key !== chosen) plain = open(key)
    }
    if (plain === undefined) {
      return yield* new AuthenticationFailed({ description: "the AS-REP does not decrypt with the client key: wrong password or key", user: clientText })
    }
    const part = yield* decode("EncASRepPart", () => kdc.decodeEncKdcRepPart(plain))
    if (part.nonce !== sentNonce) return yield* new KerberosError({ name: "KRB_AP_ERR_MODIFIED", detail: "the AS-REP answers another request (nonce mismatch)" })
    if (!sameComponents(part.sname, krbtgt)) {
      return yield* new KerberosError({ name: "KRB_AP_ERR_MODIFIED", detail: `asked for ${serverText}, the KDC issued a ticket for ${boundText(principalText(part.sname, part.srealm))}` })
    }
    return { credential: credentialFrom(rep, part), roundTrips }
  })

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
  return { ctime, cusec, encrypted: { etype: sessionKey.keytype, kvno: undefined, cipher: enctype.encrypt(sessionKey.keyvalue, usage, encodeAuthenticator({ ...rest, ctime, cusec })) } }
}

/** TGS exchange: a service ticket for `server` with a TGT. @internal */
export const tgsExchange = (kdcs: ReadonlyArray<KdcAddress>, tgt: Credential, server: PrincipalName): Effect.Effect<Credential, Failure, KdcTransport> =>
  Effect.gen(function*() {
    const clientText = principalText(tgt.client, tgt.crealm)
    const serverText = principalText(server, tgt.srealm)
    const enctype = enctypeById(tgt.sessionKey.keytype)
    if (enctype === undefined) return yield* new KerberosError({ name: "KDC_ERR_ETYPE_NOSUPP", detail: `the TGT's session key has enctype ${tgt.sessionKey.keytype}` })
    const now = yield* Clock.currentTimeMillis
    const sentNonce = nonce()
    const body = kdc.encodeReqBody({
      options: kdc.defaultKdcOptions,
      cname: undefined,
      realm: tgt.srealm,
      sname: server,
      till: tgt.endtime,
      nonce: sentNonce,
      etypes: enctypes.map((e) => e.id)
    })
    const cksum = { cksumtype: enctype.checksumType, checksum: enctype.checksum(tgt.sessionKey.keyvalue, KeyUsage.tgsReqAuthChecksum, body) }
    const sealed = sealAuthenticator(tgt.sessionKey, KeyUsage.tgsReqAuthenticator, { crealm: tgt.crealm, cname: tgt.client, cksum, subkey: undefined, seqNumber: undefined, now })!
    const apReq = encodeApReq({ options: 0, ticket: tgt.ticket, authenticator: sealed.encrypted })
    const reply = yield* sendToKdc(kdcs, kdc.encodeKdcReq(kdc.MsgType.tgsReq, [{ type: PaType.tgsReq, value: apReq }], body))
    if (kdc.messageTag(reply) === kdc.MsgType.error) {
      const error = yield* decode("KRB-ERROR", () => kdc.decodeKrbError(reply))
      return yield* fromKrbError(error, { client: clientText, server: serverText, now })
    }
    const rep = yield* decode("TGS-REP", () => kdc.decodeKdcRep(reply, kdc.MsgType.tgsRep))
    const plain = enctype.decrypt(tgt.sessionKey.keyvalue, KeyUsage.tgsRepEncPartSessionKey, rep.encPart.cipher)
    if (plain === undefined) return yield* new KerberosError({ name: "KRB_AP_ERR_BAD_INTEGRITY", detail: "the TGS-REP does not decrypt with the TGT session key" })
    const part = yield* decode("EncTGSRepPart", () => kdc.decodeEncKdcRepPart(plain))
    if (part.nonce !== sentNonce) return yield* new KerberosError({ name: "KRB_AP_ERR_MODIFIED", detail: "the TGS-REP answers another request (nonce mismatch)" })
    if (!sameComponents(part.sname, server)) {
      return yield* new KerberosError({ name: "KRB_AP_ERR_MODIFIED", detail: `asked for ${serverText}, the KDC issued a ticket for ${boundText(principalText(part.sname, part.srealm))}` })
    }
    return credentialFrom(rep, part)
  })

