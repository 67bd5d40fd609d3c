/**
 * The KDC client without a KDC: failover between KDCs, replies that are not Kerberos, KRB-ERRORs
 * mapped to typed errors, and where the KDC address comes from (options, krb5.conf, nowhere).
 */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted, TestClock } from "effect"
import * as der from "../../../winauth/src/internal/kerberos/der.js"
import * as kdc from "../../../winauth/src/internal/kerberos/kdcMessages.js"
import { parseKrb5Conf, realmOfHost } from "../../../winauth/src/internal/kerberos/krb5conf.js"
import { NameType } from "../../../winauth/src/internal/kerberos/types.js"
import * as KdcTransport from "../../src/KdcTransport.js"
import * as Kerberos from "../../src/Kerberos.js"
import { TransportError } from "../../src/VedAuthError.js"
import { MemoryFiles } from "../fixtures/memoryFileSystem.js"

const now = Date.UTC(2026, 0, 15, 9)
const options: Kerberos.TicketOptions = {
  principal: "alice@VEDAUTH.TEST",
  keySource: { _tag: "Password", password: Redacted.make("pw-secret-1") },
  spn: "HTTP/tpp.vedauth.test",
  kdc: ["127.0.0.1:1", "127.0.0.1:2"]
}
const error = (code: number, eText?: string) =>
  kdc.encodeKrbError({
    errorCode: code,
    stime: now,
    realm: "VEDAUTH.TEST",
    sname: { nameType: NameType.srvInst, components: ["krbtgt", "VEDAUTH.TEST"] },
    eText
  })

/** KDC_ERR_PREAUTH_REQUIRED whose METHOD-DATA holds one ETYPE-INFO2. */
const preauthRequired = (entries: Parameters<typeof kdc.encodeEtypeInfo2>[0]) =>
  kdc.encodeKrbError({
    errorCode: 25,
    stime: now,
    realm: "VEDAUTH.TEST",
    sname: { nameType: NameType.srvInst, components: ["krbtgt", "VEDAUTH.TEST"] },
    eText: undefined,
    eData: der.sequence(
      der.sequence(der.field(1, der.integer(19)), der.field(2, der.octetString(kdc.encodeEtypeInfo2(entries))))
    )
  })

const withKdc = (
  answer: (address: KdcTransport.KdcAddress, message: Uint8Array) => Effect.Effect<Uint8Array, TransportError>
) => Effect.provide(KdcTransport.layerMemory(answer))

describe("Kerberos.getTicket without a real KDC", () => {
  it.effect("tries the next KDC when one does not answer, and reports the last failure when none does", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const asked: Array<number> = []
      const failure = yield* Effect.flip(Kerberos.getTicket(options)).pipe(
        withKdc((address) => {
          asked.push(address.port)
          return Effect.fail(new TransportError({ detail: `refused ${address.port}` }))
        })
      )
      assert.deepStrictEqual(asked, [1, 2])
      assert.strictEqual(failure._tag, "TransportError")
      assert.include(failure.message, "refused 2")
    }))

  it.effect("a reply that is not Kerberos is a KerberosError (MALFORMED), not a defect", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      for (
        const reply of [
          new Uint8Array(0),
          new TextEncoder().encode("HTTP/1.1 400 Bad Request\r\n"),
          der.tlv(der.application(11), new Uint8Array(3))
        ]
      ) {
        const failure = yield* Effect.flip(Kerberos.getTicket(options)).pipe(withKdc(() => Effect.succeed(reply)))
        assert.strictEqual(failure._tag, "KerberosError")
      }
    }))

  it.effect("KRB-ERRORs: refused credentials are AuthenticationFailed, others KerberosError with their name and the KDC's text; never the password", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const cases: ReadonlyArray<readonly [number, string, string]> = [
        [24, "AuthenticationFailed", "KDC_ERR_PREAUTH_FAILED"],
        [18, "AuthenticationFailed", "KDC_ERR_CLIENT_REVOKED"],
        [23, "AuthenticationFailed", "has expired"],
        [12, "KerberosError", "KDC_ERR_POLICY"],
        [68, "KerberosError", "realm is wrong"],
        [99, "KerberosError", "KRB_ERROR_99"]
      ]
      for (const [code, tag, text] of cases) {
        const failure = yield* Effect.flip(Kerberos.getTicket(options)).pipe(
          withKdc(() => Effect.succeed(error(code, "as the KDC says")))
        )
        assert.strictEqual(failure._tag, tag)
        // A KerberosError's protocol name is its `name`, which String() puts before the message.
        assert.include(String(failure), text)
        assert.include(failure.message, "as the KDC says")
        assert.notInclude(JSON.stringify(failure) + failure.message, "pw-secret-1")
      }
    }))

  it.effect("PREAUTH_REQUIRED without an AES enctype on offer says how to fix it", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const failure = yield* Effect.flip(Kerberos.getTicket(options)).pipe(
        withKdc(() => Effect.succeed(preauthRequired([{ etype: 23, salt: undefined, s2kparams: undefined }])))
      )
      assert.strictEqual(failure._tag, "KerberosError")
      assert.include(failure.message, "enable AES")
    }))

  it.effect("a KDC asking for 0 or 2^32-1 PBKDF2 iterations gets a KerberosError, not a hang", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      for (const params of [Uint8Array.of(0, 0, 0, 0), Uint8Array.of(0xff, 0xff, 0xff, 0xff)]) {
        const failure = yield* Effect.flip(Kerberos.getTicket(options)).pipe(
          withKdc(() => Effect.succeed(preauthRequired([{ etype: 18, salt: "x", s2kparams: params }])))
        )
        assert.strictEqual(failure._tag, "KerberosError")
        assert.include(failure.message, "PBKDF2 iterations")
      }
    }))

  it.effect("no KDC in the options, none in krb5.conf, no DNS: a TransportError that says where to put one", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const failure = yield* Effect.flip(Kerberos.getTicket({ ...options, kdc: [] })).pipe(
        Effect.provide(KdcTransport.layerUnreachable)
      )
      assert.strictEqual(failure._tag, "TransportError")
      assert.include(failure.message, "krb5.conf")
    }))

  it.effect("krb5.conf named by KRB5_CONFIG gives the default realm and the KDC", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const memory = new MemoryFiles()
      const file = "/etc/vedauth-test/krb5.conf"
      memory.files.set(file, {
        text: "[libdefaults]\n default_realm = CONF.TEST\n[realms]\n CONF.TEST = {\n  kdc = kdc1.conf.test:8888\n }\n",
        mode: 0o644
      })
      const asked: Array<string> = []
      yield* Effect.flip(
        Kerberos.getTicket({ principal: "alice", keySource: options.keySource, spn: "HTTP/tpp.conf.test" })
      ).pipe(
        withKdc((address) => {
          asked.push(`${address.host}:${address.port}`)
          return Effect.fail(new TransportError({ detail: "offline" }))
        }),
        Effect.provide(
          Layer.merge(memory.layer(), Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["KRB5_CONFIG", file]]))))
        )
      )
      assert.deepStrictEqual(asked, ["kdc1.conf.test:8888"])
    }))

  it.effect("a KEYRING: or DIR: credential cache, or a KCM: one with no KcmTransport, is a KerberosError (CCACHE_TYPE_UNSUPPORTED)", () =>
    Effect.gen(function*() {
      for (const cache of ["KCM:", "KEYRING:persistent:1000", "DIR:/run/user/1000/krb5cc"]) {
        const failure = yield* Effect.flip(Kerberos.getTicket({ ...options, cache })).pipe(
          Effect.provide(KdcTransport.layerUnreachable)
        )
        assert.strictEqual(failure._tag, "KerberosError")
        if (failure._tag === "KerberosError") assert.strictEqual(failure.reason, "CCACHE_TYPE_UNSUPPORTED")
      }
    }))
})

describe("krb5.conf and KDC addresses", () => {
  it("reads default_realm, [realms] kdc lists and [domain_realm], skipping what it does not know", () => {
    const conf = parseKrb5Conf(`
# comment
[libdefaults]
    default_realm = CORP.EXAMPLE   # trailing comment
    dns_lookup_kdc = true
[realms]
    CORP.EXAMPLE = {
        kdc = dc1.corp.example
        kdc = dc2.corp.example:88
        admin_server = dc1.corp.example
        auth_to_local = {
          x = y
        }
    }
[domain_realm]
    .corp.example = CORP.EXAMPLE
    special.other.example = OTHER.EXAMPLE
`)
    assert.strictEqual(conf.defaultRealm, "CORP.EXAMPLE")
    assert.deepStrictEqual(conf.kdcs.get("CORP.EXAMPLE"), ["dc1.corp.example", "dc2.corp.example:88"])
    assert.strictEqual(realmOfHost(conf, "tpp.corp.example"), "CORP.EXAMPLE")
    assert.strictEqual(realmOfHost(conf, "special.other.example"), "OTHER.EXAMPLE")
    assert.strictEqual(realmOfHost(conf, "elsewhere.example"), undefined)
  })

  it("parses host, host:port, [v6]:port and bare IPv6, refusing bad ports", () => {
    assert.deepStrictEqual(KdcTransport.parseAddress("kdc.example"), { host: "kdc.example", port: 88 })
    assert.deepStrictEqual(KdcTransport.parseAddress("tcp/kdc.example:750"), { host: "kdc.example", port: 750 })
    assert.strictEqual(KdcTransport.parseAddress("https://kdc.example/KdcProxy"), undefined)
    assert.deepStrictEqual(KdcTransport.parseAddress("[::1]:8888"), { host: "::1", port: 8888 })
    assert.deepStrictEqual(KdcTransport.parseAddress("::1"), { host: "::1", port: 88 })
    assert.strictEqual(KdcTransport.parseAddress("kdc.example:99999"), undefined)
  })
})
