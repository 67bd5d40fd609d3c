/**
 * Which principal and realm each user form means (`internal/kerberos/clientRealm.ts`): a realm
 * given wins; `user@suffix` and a DNS domain name their realm; krb5.conf's default_realm, then its
 * [domain_realm] for the server's host; an enterprise name where the KDC must resolve a NetBIOS name
 * or a UPN suffix; the NetBIOS domain or the server's DNS domain only as a guess, said so. And what
 * getTicket asks the KDC with them, and how a guessed realm's failure reads.
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either, Redacted, TestClock } from "effect"
import * as kdc from "../../../winauth/src/internal/kerberos/kdcMessages.js"
import { parseKrb5Conf } from "../../../winauth/src/internal/kerberos/krb5conf.js"
import { type ClientContext, clientName, namesPrincipal } from "../../src/internal/kerberos/clientRealm.js"
import * as KdcTransport from "../../src/KdcTransport.js"
import * as Kerberos from "../../src/Kerberos.js"
import { TransportError } from "../../src/VedAuthError.js"

const conf = (text: string) => parseKrb5Conf(text)
const noConf = conf("")
const withDefault = conf(
  "[libdefaults]\n default_realm = CORP.EXAMPLE\n[realms]\n CORP.EXAMPLE = {\n  kdc = 127.0.0.1:88\n }\n"
)
const withDomainRealm = conf("[domain_realm]\n .corp.example = CORP.EXAMPLE\n")

const context = (overrides: Partial<ClientContext> = {}): ClientContext => ({
  realm: undefined,
  conf: noConf,
  serviceHost: "tpp.corp.example",
  enterpriseAllowed: true,
  ...overrides
})

const resolve = (text: string, overrides: Partial<ClientContext> = {}) => {
  const result = clientName(text, context(overrides))
  if (Either.isLeft(result)) throw new Error(result.left.message)
  const { principal, enterprise, guess } = result.right
  return { name: principal.name.join("/"), realm: principal.realm, enterprise, guessed: guess !== undefined }
}

describe("the client's realm for each user form", () => {
  it("a realm given wins for every form; a UPN with another suffix becomes an enterprise name for that realm", () => {
    const realm = "CORP.EXAMPLE"
    assert.deepStrictEqual(resolve("CORP\\alice", { realm, conf: withDefault }), {
      name: "alice",
      realm,
      enterprise: false,
      guessed: false
    })
    assert.deepStrictEqual(resolve("eu.corp.example\\alice", { realm }), {
      name: "alice",
      realm,
      enterprise: false,
      guessed: false
    })
    assert.deepStrictEqual(resolve("alice", { realm }), { name: "alice", realm, enterprise: false, guessed: false })
    assert.deepStrictEqual(resolve("alice@corp.example", { realm }), {
      name: "alice",
      realm,
      enterprise: false,
      guessed: false
    })
    assert.deepStrictEqual(resolve("alice@example.com", { realm }), {
      name: "alice@example.com",
      realm,
      enterprise: true,
      guessed: false
    })
  })

  it("user@suffix and a DNS domain name their realm, upper-cased, whatever krb5.conf's default", () => {
    assert.deepStrictEqual(resolve("alice@corp.test", { conf: withDefault }), {
      name: "alice",
      realm: "CORP.TEST",
      enterprise: false,
      guessed: false
    })
    assert.deepStrictEqual(resolve("corp.test\\alice", { conf: withDefault }), {
      name: "alice",
      realm: "CORP.TEST",
      enterprise: false,
      guessed: false
    })
  })

  it("CORP\\alice with default_realm CORP.EXAMPLE is alice@CORP.EXAMPLE; EU\\alice is the enterprise name alice@EU sent to CORP.EXAMPLE", () => {
    assert.deepStrictEqual(resolve("CORP\\alice", { conf: withDefault }), {
      name: "alice",
      realm: "CORP.EXAMPLE",
      enterprise: false,
      guessed: false
    })
    assert.deepStrictEqual(resolve("corp\\alice", { conf: withDefault }), {
      name: "alice",
      realm: "CORP.EXAMPLE",
      enterprise: false,
      guessed: false
    })
    assert.deepStrictEqual(resolve("EU\\alice", { conf: withDefault }), {
      name: "alice@EU",
      realm: "CORP.EXAMPLE",
      enterprise: true,
      guessed: false
    })
    // A keytab's keys are under the plain name: no enterprise name then.
    assert.deepStrictEqual(resolve("EU\\alice", { conf: withDefault, enterpriseAllowed: false }), {
      name: "alice",
      realm: "CORP.EXAMPLE",
      enterprise: false,
      guessed: false
    })
  })

  it("without default_realm, [domain_realm] for the server's host", () => {
    assert.deepStrictEqual(resolve("CORP\\alice", { conf: withDomainRealm }), {
      name: "alice",
      realm: "CORP.EXAMPLE",
      enterprise: false,
      guessed: false
    })
    assert.deepStrictEqual(resolve("alice", { conf: withDomainRealm }), {
      name: "alice",
      realm: "CORP.EXAMPLE",
      enterprise: false,
      guessed: false
    })
  })

  it("on a Windows domain logon with no krb5.conf: USERDNSDOMAIN names the realm, after krb5.conf", () => {
    assert.deepStrictEqual(resolve("CORP\\alice", { logonRealm: "CORP.EXAMPLE" }), {
      name: "alice",
      realm: "CORP.EXAMPLE",
      enterprise: false,
      guessed: false
    })
    assert.deepStrictEqual(
      resolve("alice", { logonRealm: "CORP.EXAMPLE", conf: conf("[libdefaults]\n default_realm = OTHER.EXAMPLE\n") }),
      { name: "alice", realm: "OTHER.EXAMPLE", enterprise: false, guessed: false }
    )
  })

  it("with nothing configured: the NetBIOS domain as an enterprise name in that realm, the server's DNS domain for a bare name; both guesses", () => {
    assert.deepStrictEqual(resolve("CORP\\alice"), {
      name: "alice@CORP",
      realm: "CORP",
      enterprise: true,
      guessed: true
    })
    assert.deepStrictEqual(resolve("alice"), { name: "alice", realm: "CORP.EXAMPLE", enterprise: false, guessed: true })
  })

  it("a bare name with no realm anywhere and a server host with no domain (or an IP address): BAD_PRINCIPAL; an empty domain or name too", () => {
    for (
      const [text, host] of [["alice", "localhost"], ["alice", "10.0.0.1"], ["\\alice", "tpp.corp.example"], [
        "CORP\\",
        "tpp.corp.example"
      ]] as const
    ) {
      const result = clientName(text, context({ serviceHost: host }))
      assert.isTrue(Either.isLeft(result), text)
      if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "BAD_PRINCIPAL")
    }
  })

  it("namesPrincipal: CORP\\alice, alice@corp.example and alice name alice@CORP.EXAMPLE; EU\\alice and bob do not", () => {
    for (const user of ["CORP\\alice", "alice@corp.example", "ALICE", "corp.example\\alice"]) {
      assert.isTrue(namesPrincipal(user, "alice@CORP.EXAMPLE"), user)
    }
    for (const user of ["EU\\alice", "bob", "alice@example.com"]) {
      assert.isFalse(namesPrincipal(user, "alice@CORP.EXAMPLE"), user)
    }
  })
})

describe("getTicket with the resolved name", () => {
  const password = { _tag: "Password", password: Redacted.make("pw-secret-1") } as const

  it.effect("CORP\\alice with only a KDC given: an AS-REQ for the enterprise name alice@CORP in realm CORP, with canonicalize", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 0, 15, 9))
      const sent: Array<kdc.KdcReq> = []
      yield* Effect.flip(
        Kerberos.getTicket({ principal: "CORP\\alice", keySource: password, spn: "HTTP/localhost", kdc: "127.0.0.1:1" })
      ).pipe(
        Effect.provide(KdcTransport.layerMemory((_address, message) => {
          sent.push(kdc.decodeKdcReq(message))
          return Effect.fail(new TransportError({ detail: "no answer" }))
        }))
      )
      assert.strictEqual(sent.length, 1)
      assert.deepStrictEqual(sent[0]!.cname, { nameType: 10, components: ["alice@CORP"] })
      assert.strictEqual(sent[0]!.realm, "CORP")
      assert.notStrictEqual(sent[0]!.options & kdc.canonicalizeOption, 0)
    }))

  it.effect("a guessed realm whose KDC cannot be found: REALM_GUESS_FAILED naming the realm, why it was guessed, and how to set it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Kerberos.getTicket({ principal: "CORP\\alice", keySource: password, spn: "HTTP/localhost" })
      ).pipe(
        Effect.provide(KdcTransport.layerMemory(() => Effect.fail(new TransportError({ detail: "unused" })))),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map()))
      )
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag !== "KerberosError") return
      assert.strictEqual(error.reason, "REALM_GUESS_FAILED")
      assert.include(error.detail, "no KDC is known for realm CORP")
      assert.include(error.detail, "the realm CORP was only a guess (the NetBIOS domain of CORP\\alice")
      assert.include(error.hint ?? "", "--realm")
      assert.include(error.hint ?? "", "default_realm")
    }))
})
