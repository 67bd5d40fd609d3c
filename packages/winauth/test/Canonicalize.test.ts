/**
 * The AS exchange's canonicalization (RFC 6806) against a scripted KDC: the realm the KDC answers
 * with is believed only when canonicalization was asked for, and only with the canonical realm's own
 * TGT; an enterprise name goes out as NT-ENTERPRISE; the service ticket then goes to the canonical
 * realm, which `clientRealm` reports.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { KerberosFailure } from "../src/Failure.js"
import { KeyUsage } from "../src/internal/kerberos/apMessages.js"
import { enctypeById } from "../src/internal/kerberos/enctypes.js"
import { asExchange } from "../src/internal/kerberos/kdcClient.js"
import * as kdc from "../src/internal/kerberos/kdcMessages.js"
import { encodeTicket, type EncryptionKey, NameType, type PrincipalName } from "../src/internal/kerberos/types.js"
import * as Kerberos from "../src/Kerberos.js"

const aes256 = enctypeById(18)!
const clientKey: EncryptionKey = { keytype: 18, keyvalue: new Uint8Array(32).fill(7) }
const now = Date.UTC(2026, 11, 6, 12)

interface Answer {
  readonly crealm: string
  readonly cname: PrincipalName
  readonly srealm: string
  readonly sname: PrincipalName
  /** The ticket's own server, when it differs from the encrypted part's. */
  readonly ticketRealm?: string
}

/** An AS-REP to `request` sealed with the client's key, naming whom `answer` says. */
const asRep = (request: Uint8Array, answer: Answer): Uint8Array => {
  const req = kdc.decodeKdcReq(request)
  const part = kdc.encodeEncKdcRepPart({
    key: { keytype: 18, keyvalue: new Uint8Array(32).fill(9) },
    nonce: req.nonce,
    flags: 0,
    authtime: now,
    starttime: undefined,
    endtime: now + 3600_000,
    renewTill: undefined,
    srealm: answer.srealm,
    sname: answer.sname
  }, false)
  const ticketBody = {
    realm: answer.ticketRealm ?? answer.srealm,
    sname: answer.sname,
    encPart: { etype: 18, kvno: 1, cipher: new Uint8Array(40) }
  }
  const raw = encodeTicket(ticketBody)
  return kdc.encodeKdcRep({
    msgType: 11,
    padata: [],
    crealm: answer.crealm,
    cname: answer.cname,
    ticket: { ...ticketBody, raw },
    encPart: { etype: 18, kvno: 1, cipher: aes256.encrypt(clientKey.keyvalue, KeyUsage.asRepEncPart, part) }
  })
}

const alice: PrincipalName = { nameType: NameType.principal, components: ["alice"] }
const krbtgtOf = (realm: string): PrincipalName => ({ nameType: NameType.srvInst, components: ["krbtgt", realm] })

/** Runs one AS exchange for alice in `realm` against a KDC that answers `answer`; the request sent and the outcome. */
const runAs = (
  options: { readonly realm: string; readonly canonicalize?: boolean; readonly client?: PrincipalName },
  answer: Answer
) =>
  Effect.promise(async () => {
    const exchange = asExchange({
      client: options.client ?? alice,
      realm: options.realm,
      keySource: { _tag: "Keys", keys: [clientKey] },
      ...(options.canonicalize === undefined ? {} : { canonicalize: options.canonicalize })
    }, now)
    const first = await exchange.next()
    if (first.done === true) throw new Error("no request")
    const sent = kdc.decodeKdcReq(first.value.message)
    const outcome = await exchange.next({ reply: asRep(first.value.message, answer), now }).then(
      (result) => ({ _tag: "Ok" as const, credential: result.done === true ? result.value.credential : undefined }),
      (error: unknown) => ({ _tag: "Failed" as const, error: error as KerberosFailure })
    )
    return { sent, outcome }
  })

const canonical: Answer = { crealm: "CORP.TEST", cname: alice, srealm: "CORP.TEST", sname: krbtgtOf("CORP.TEST") }

describe("AS exchange: the client's canonical realm (RFC 6806)", () => {
  it.effect("asked with canonicalize for alice@CORP, the KDC answers alice@CORP.TEST with krbtgt/CORP.TEST@CORP.TEST: accepted", () =>
    Effect.gen(function*() {
      const { outcome, sent } = yield* runAs({ realm: "CORP" }, canonical)
      assert.notStrictEqual(sent.options & kdc.canonicalizeOption, 0)
      assert.strictEqual(outcome._tag, "Ok")
      if (outcome._tag !== "Ok") return
      assert.strictEqual(outcome.credential?.crealm, "CORP.TEST")
      assert.strictEqual(outcome.credential?.srealm, "CORP.TEST")
    }))

  it.effect("without canonicalize, the same answer is refused: another realm than asked (KRB_AP_ERR_MODIFIED)", () =>
    Effect.gen(function*() {
      const { outcome, sent } = yield* runAs({ realm: "CORP", canonicalize: false }, canonical)
      assert.strictEqual(sent.options & kdc.canonicalizeOption, 0)
      assert.strictEqual(outcome._tag, "Failed")
      if (outcome._tag !== "Failed") return
      assert.instanceOf(outcome.error, KerberosFailure)
      assert.strictEqual(outcome.error.reason, "KRB_AP_ERR_MODIFIED")
      assert.include(outcome.error.detail, "krbtgt/CORP.TEST@CORP.TEST")
    }))

  it.effect("without canonicalize, the asked TGT in another realm (krbtgt/CORP@CORP.TEST) or another client name is refused", () =>
    Effect.gen(function*() {
      const realmSwap = yield* runAs({ realm: "CORP", canonicalize: false }, {
        crealm: "CORP",
        cname: alice,
        srealm: "OTHER",
        sname: krbtgtOf("CORP")
      })
      assert.strictEqual(realmSwap.outcome._tag, "Failed")
      const nameSwap = yield* runAs({ realm: "CORP", canonicalize: false }, {
        crealm: "CORP",
        cname: { nameType: 1, components: ["mallory"] },
        srealm: "CORP",
        sname: krbtgtOf("CORP")
      })
      assert.strictEqual(nameSwap.outcome._tag, "Failed")
      if (nameSwap.outcome._tag === "Failed") assert.include(nameSwap.outcome.error.detail, "mallory@CORP")
    }))

  it.effect("with canonicalize, a TGT that is not the canonical realm's own is refused: another realm's krbtgt, a service, a ticket that disagrees with its encrypted part", () =>
    Effect.gen(function*() {
      const answers: ReadonlyArray<Answer> = [
        // krbtgt/OTHER@CORP.TEST: a cross-realm TGT is not an answer to an AS-REQ for the client's realm.
        { ...canonical, sname: krbtgtOf("OTHER") },
        // The client's realm is CORP.TEST but the TGT is OTHER's own.
        { ...canonical, srealm: "OTHER", sname: krbtgtOf("OTHER") },
        { ...canonical, sname: { nameType: NameType.srvInst, components: ["HTTP", "tpp.corp.test"] } },
        { ...canonical, ticketRealm: "EVIL.TEST" }
      ]
      for (const answer of answers) {
        const { outcome } = yield* runAs({ realm: "CORP" }, answer)
        assert.strictEqual(outcome._tag, "Failed")
        if (outcome._tag === "Failed") assert.strictEqual(outcome.error.reason, "KRB_AP_ERR_MODIFIED")
      }
    }))

  it.effect("an enterprise name goes out as NT-ENTERPRISE with canonicalize even when canonicalize is turned off", () =>
    Effect.gen(function*() {
      const enterprise: PrincipalName = { nameType: NameType.enterprise, components: ["alice@CORP"] }
      const { outcome, sent } = yield* runAs({ realm: "CORP", canonicalize: false, client: enterprise }, canonical)
      assert.deepStrictEqual(sent.cname, enterprise)
      assert.notStrictEqual(sent.options & kdc.canonicalizeOption, 0)
      assert.strictEqual(outcome._tag, "Ok")
    }))

  it.effect("ticketExchange: alice\\@CORP as an enterprise name in realm CORP; after the canonical AS-REP the TGS-REQ goes to CORP.TEST and clientRealm says so", () =>
    Effect.gen(function*() {
      const exchange = Kerberos.ticketExchange({
        client: { name: ["alice@CORP"], realm: "CORP" },
        service: { name: ["HTTP", "localhost"], realm: "CORP" },
        secret: {
          _tag: "Keys",
          keys: [{ principal: { nameType: 10, components: ["alice@CORP"] }, realm: "CORP", kvno: 1, key: clientKey }]
        },
        enterprise: true
      })
      const first = yield* Effect.promise(() => exchange.start(now))
      assert.strictEqual(first._tag, "Send")
      if (first._tag !== "Send") return
      assert.strictEqual(first.realm, "CORP")
      assert.strictEqual(exchange.clientRealm(), "CORP")
      assert.deepStrictEqual(kdc.decodeKdcReq(first.message).cname, { nameType: 10, components: ["alice@CORP"] })
      const second = yield* Effect.promise(() => exchange.receive(asRep(first.message, canonical), now))
      assert.strictEqual(second._tag, "Send")
      if (second._tag !== "Send") return
      assert.strictEqual(second.realm, "CORP.TEST")
      assert.strictEqual(kdc.decodeKdcReq(second.message).realm, "CORP.TEST")
      assert.strictEqual(exchange.clientRealm(), "CORP.TEST")
    }))
})
