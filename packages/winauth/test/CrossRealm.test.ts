/**
 * Cross-realm service tickets in the engine, against scripted KDCs: the path of cross-realm TGTs
 * ([capaths]), KDC referrals (RFC 6806), cached cross-realm TGTs, and hostile referrals (a loop, a
 * realm visited twice, a chain past the bound, a ticket for another name or another client), each a
 * typed `KerberosFailure`, never a hang or an uncaught exception.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { KerberosFailure } from "../src/Failure.js"
import { KeyUsage } from "../src/internal/kerberos/apMessages.js"
import * as der from "../src/internal/kerberos/der.js"
import { enctypeById } from "../src/internal/kerberos/enctypes.js"
import type { Credential } from "../src/internal/kerberos/kdcClient.js"
import * as kdc from "../src/internal/kerberos/kdcMessages.js"
import {
  decodeTicket,
  encodeTicket,
  type EncryptionKey,
  NameType,
  type PrincipalName
} from "../src/internal/kerberos/types.js"
import * as Kerberos from "../src/Kerberos.js"
import * as Krb5Conf from "../src/Krb5Conf.js"

const now = Date.UTC(2026, 0, 15, 9)
const hour = 3600_000
const aes = enctypeById(18)!
const alice: PrincipalName = { nameType: NameType.principal, components: ["alice"] }
const krbtgt = (realm: string): PrincipalName => ({ nameType: NameType.srvInst, components: ["krbtgt", realm] })
const randomKey = (): EncryptionKey => ({ keytype: 18, keyvalue: crypto.getRandomValues(new Uint8Array(32)) })

const ticketFor = (sname: PrincipalName, realm: string) =>
  decodeTicket(
    der.readAt(encodeTicket({ realm, sname, encPart: { etype: 18, kvno: 1, cipher: new Uint8Array(48) } }), 0)
  )

const credential = (
  server: PrincipalName,
  srealm: string,
  sessionKey: EncryptionKey,
  client = alice,
  crealm = "USERS.TEST"
): Credential => ({
  client,
  crealm,
  server,
  srealm,
  ticket: ticketFor(server, srealm),
  sessionKey,
  flags: 0,
  authtime: now,
  starttime: undefined,
  endtime: now + 10 * hour,
  renewTill: undefined
})

/** What a scripted KDC issues for one TGS-REQ: the name and realm of the ticket, and its client. */
interface Issue {
  readonly sname: PrincipalName
  readonly srealm: string
  readonly cname?: PrincipalName
  readonly crealm?: string
}

/**
 * Runs an exchange whose every message is answered by `answer` (with the request: the realm it went
 * to and the name it asks for), sealed with the session key of the ticket the client last got, as a
 * real KDC chain would. Returns the Done step or the failure, and the requests seen.
 */
const run = (
  request: Kerberos.TicketRequest,
  firstKey: EncryptionKey,
  answer: (to: string, asked: PrincipalName, index: number) => Issue
) =>
  Effect.promise(async () => {
    const seen: Array<{ readonly realm: string; readonly sname: string; readonly bodyRealm: string }> = []
    let key = firstKey
    const exchange = Kerberos.ticketExchange(request)
    try {
      let step = await exchange.start(now)
      while (step._tag === "Send") {
        const req = kdc.decodeKdcReq(step.message)
        seen.push({ realm: step.realm, sname: req.sname.components.join("/"), bodyRealm: req.realm })
        const issue = answer(step.realm, req.sname, seen.length - 1)
        const sessionKey = randomKey()
        const part: kdc.EncKdcRepPart = {
          key: sessionKey,
          nonce: req.nonce,
          flags: 0,
          authtime: now,
          starttime: undefined,
          endtime: now + 10 * hour,
          renewTill: undefined,
          srealm: issue.srealm,
          sname: issue.sname
        }
        const rep = kdc.encodeKdcRep({
          msgType: 13,
          padata: [],
          crealm: issue.crealm ?? "USERS.TEST",
          cname: issue.cname ?? alice,
          ticket: ticketFor(issue.sname, issue.srealm),
          encPart: {
            etype: 18,
            kvno: undefined,
            cipher: aes.encrypt(key.keyvalue, KeyUsage.tgsRepEncPartSessionKey, kdc.encodeEncKdcRepPart(part, true))
          }
        })
        key = sessionKey
        step = await exchange.receive(rep, now + seen.length)
      }
      return { done: step, failure: undefined, seen }
    } catch (e) {
      if (!(e instanceof KerberosFailure)) throw e
      return { done: undefined, failure: e, seen }
    }
  })

const tgtKey = randomKey()
const userTgt = credential(krbtgt("USERS.TEST"), "USERS.TEST", tgtKey)
const base = {
  client: { name: ["alice"], realm: "USERS.TEST" },
  service: { name: ["HTTP", "tpp.services.test"], realm: "SERVICES.TEST" },
  secret: { _tag: "None" }
} as const satisfies Kerberos.TicketRequest

/** A guessed service realm (the client's): only a referral can find the service. */
const byReferral: Kerberos.TicketRequest = {
  ...base,
  service: { ...base.service, realm: "USERS.TEST" },
  serviceRealmGuessed: true,
  cached: [userTgt]
}

/** A KDC that refers every request for the service to `next(realm)`, and issues it in `home`. */
const referrals =
  (next: (realm: string) => string, home = "SERVICES.TEST") => (to: string, asked: PrincipalName): Issue =>
    asked.components[0] === "HTTP" && to !== home
      ? { sname: krbtgt(next(to)), srealm: to }
      : { sname: asked, srealm: to }

describe("cross-realm: the service realm known up front", () => {
  it.effect("a cross-realm TGT from the client's KDC, then the ticket from the service realm's KDC: 2 round trips, both obtained", () =>
    Effect.gen(function*() {
      const { done, seen } = yield* run(
        { ...base, cached: [userTgt] },
        tgtKey,
        (to, asked) => ({ sname: asked, srealm: to })
      )
      assert.deepStrictEqual(seen, [
        { realm: "USERS.TEST", sname: "krbtgt/SERVICES.TEST", bodyRealm: "USERS.TEST" },
        { realm: "SERVICES.TEST", sname: "HTTP/tpp.services.test", bodyRealm: "SERVICES.TEST" }
      ])
      assert.strictEqual(done?._tag, "Done")
      if (done?._tag !== "Done") return
      assert.strictEqual(done.roundTrips, 2)
      assert.deepStrictEqual(done.obtained.map((c) => `${c.server.components.join("/")}@${c.srealm}`), [
        "krbtgt/SERVICES.TEST@USERS.TEST",
        "HTTP/tpp.services.test@SERVICES.TEST"
      ])
      assert.strictEqual(done.tgt, userTgt)
    }))

  it.effect("through the [capaths] intermediate realm: one TGS per realm", () =>
    Effect.gen(function*() {
      const { done, seen } = yield* run(
        { ...base, cached: [userTgt], path: ["CORP.TEST"] },
        tgtKey,
        (to, asked) => ({ sname: asked, srealm: to })
      )
      assert.deepStrictEqual(seen.map((s) => `${s.sname}→${s.realm}`), [
        "krbtgt/CORP.TEST→USERS.TEST",
        "krbtgt/SERVICES.TEST→CORP.TEST",
        "HTTP/tpp.services.test→SERVICES.TEST"
      ])
      assert.strictEqual(done?._tag === "Done" ? done.roundTrips : -1, 3)
    }))

  it.effect("a cached cross-realm TGT is reused: 1 round trip, to the service realm's KDC", () =>
    Effect.gen(function*() {
      const crossKey = randomKey()
      const cross = credential(krbtgt("SERVICES.TEST"), "USERS.TEST", crossKey)
      const { done, seen } = yield* run(
        { ...base, cached: [userTgt, cross] },
        crossKey,
        (to, asked) => ({ sname: asked, srealm: to })
      )
      assert.deepStrictEqual(seen.map((s) => s.realm), ["SERVICES.TEST"])
      assert.strictEqual(done?._tag === "Done" ? done.obtained.length : -1, 1)
    }))

  it.effect("the KDC answers krbtgt/OTHER for the next realm on the path: KRB_AP_ERR_MODIFIED", () =>
    Effect.gen(function*() {
      const { failure } = yield* run(
        { ...base, cached: [userTgt] },
        tgtKey,
        (to) => ({ sname: krbtgt("EVIL.TEST"), srealm: to })
      )
      assert.strictEqual(failure?.reason, "KRB_AP_ERR_MODIFIED")
    }))
})

describe("cross-realm: KDC referrals", () => {
  it.effect("a referral is followed to the other realm's KDC; the cached service ticket then serves whatever its realm", () =>
    Effect.gen(function*() {
      const { done, seen } = yield* run(byReferral, tgtKey, referrals(() => "SERVICES.TEST"))
      assert.deepStrictEqual(seen.map((s) => `${s.sname}→${s.realm}`), [
        "HTTP/tpp.services.test→USERS.TEST",
        "HTTP/tpp.services.test→SERVICES.TEST"
      ])
      if (done?._tag !== "Done") return assert.fail("no ticket")
      assert.strictEqual(done.ticket.srealm, "SERVICES.TEST")
      assert.strictEqual(done.obtained.length, 2)
      const again = yield* run(
        { ...byReferral, cached: [userTgt, ...done.obtained] },
        tgtKey,
        () => assert.fail("no KDC needed")
      )
      assert.strictEqual(again.done?._tag === "Done" ? again.done.roundTrips : -1, 0)
    }))

  it.effect("a loop of referrals (A → B → A) is KDC_REFERRAL_LOOP", () =>
    Effect.gen(function*() {
      const { failure, seen } = yield* run(
        byReferral,
        tgtKey,
        referrals((realm) => (realm === "USERS.TEST" ? "B.TEST" : "USERS.TEST"))
      )
      assert.strictEqual(failure?.reason, "KDC_REFERRAL_LOOP")
      assert.strictEqual(seen.length, 2)
    }))

  it.effect("a referral to a realm visited before (A → B → C → B) is KDC_REFERRAL_LOOP", () =>
    Effect.gen(function*() {
      const next: Record<string, string> = { "USERS.TEST": "B.TEST", "B.TEST": "C.TEST", "C.TEST": "B.TEST" }
      const { failure, seen } = yield* run(byReferral, tgtKey, referrals((realm) => next[realm]!))
      assert.strictEqual(failure?.reason, "KDC_REFERRAL_LOOP")
      assert.strictEqual(seen.length, 3)
    }))

  it.effect("a KDC referring to its own realm is KDC_REFERRAL_LOOP", () =>
    Effect.gen(function*() {
      const { failure } = yield* run(byReferral, tgtKey, referrals((realm) => realm))
      assert.strictEqual(failure?.reason, "KDC_REFERRAL_LOOP")
    }))

  it.effect(`more than ${Kerberos.maxRealms} realms (an endless chain of new ones) is KDC_REFERRAL_TOO_LONG, after ${Kerberos.maxRealms - 1} hops`, () =>
    Effect.gen(function*() {
      let n = 0
      const { failure, seen } = yield* run(byReferral, tgtKey, referrals(() => `R${++n}.TEST`))
      assert.strictEqual(failure?.reason, "KDC_REFERRAL_TOO_LONG")
      assert.strictEqual(seen.length, Kerberos.maxRealms)
    }))

  it.effect("the final ticket for another name than asked is KRB_AP_ERR_MODIFIED", () =>
    Effect.gen(function*() {
      const { failure } = yield* run(byReferral, tgtKey, (to) =>
        to === "USERS.TEST"
          ? { sname: krbtgt("SERVICES.TEST"), srealm: to }
          : { sname: { nameType: NameType.srvHst, components: ["HTTP", "evil.test"] }, srealm: to })
      assert.strictEqual(failure?.reason, "KRB_AP_ERR_MODIFIED")
    }))

  it.effect("the final ticket in another realm than the last hop names is KRB_AP_ERR_MODIFIED", () =>
    Effect.gen(function*() {
      const { failure } = yield* run(
        byReferral,
        tgtKey,
        (to, asked) => (to === "USERS.TEST"
          ? { sname: krbtgt("SERVICES.TEST"), srealm: to }
          : { sname: asked, srealm: "ELSEWHERE.TEST" })
      )
      assert.strictEqual(failure?.reason, "KRB_AP_ERR_MODIFIED")
    }))

  it.effect("a referral TGT issued to another client is KRB_AP_ERR_MODIFIED", () =>
    Effect.gen(function*() {
      const mallory: PrincipalName = { nameType: NameType.principal, components: ["mallory"] }
      const { failure } = yield* run(
        byReferral,
        tgtKey,
        (to) => ({ sname: krbtgt("SERVICES.TEST"), srealm: to, cname: mallory })
      )
      assert.strictEqual(failure?.reason, "KRB_AP_ERR_MODIFIED")
    }))

  it.effect("a referral TGT that claims to be issued by another realm is KRB_AP_ERR_MODIFIED", () =>
    Effect.gen(function*() {
      const { failure } = yield* run(
        byReferral,
        tgtKey,
        () => ({ sname: krbtgt("SERVICES.TEST"), srealm: "OTHER.TEST" })
      )
      assert.strictEqual(failure?.reason, "KRB_AP_ERR_MODIFIED")
    }))
})

describe("krb5.conf [capaths]", () => {
  it("intermediate realms per (client, service) pair, `.` for a direct trust, bounded", () => {
    const conf = Krb5Conf.parse([
      "[capaths]",
      "  USERS.TEST = {",
      "    SERVICES.TEST = CORP.TEST",
      "    SERVICES.TEST = HUB.TEST",
      "    PARTNER.TEST = .",
      "  }",
      "[domain_realm]",
      "  .services.test = SERVICES.TEST"
    ].join("\n"))
    assert.deepStrictEqual(Krb5Conf.capath(conf, "users.test", "SERVICES.TEST"), ["CORP.TEST", "HUB.TEST"])
    assert.deepStrictEqual(Krb5Conf.capath(conf, "USERS.TEST", "PARTNER.TEST"), [])
    assert.deepStrictEqual(Krb5Conf.capath(conf, "OTHER.TEST", "SERVICES.TEST"), [])
    assert.strictEqual(Krb5Conf.realmOfHost(conf, "tpp.services.test"), "SERVICES.TEST")
    const huge = Krb5Conf.parse(
      ["[capaths]", "A = {", ...Array.from({ length: Krb5Conf.limits.maxCapaths + 10 }, (_, i) => `R${i} = .`), "}"]
        .join("\n")
    )
    assert.strictEqual(huge.capaths?.get("A")?.size, Krb5Conf.limits.maxCapaths)
    assert.match(huge.truncated ?? "", /\[capaths\]/)
  })
})
