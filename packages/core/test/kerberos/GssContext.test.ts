/**
 * The initiator and acceptor halves in memory (tickets minted with the service key): channel
 * bindings, mutual authentication, clock skew, expiry, replay, keys, all on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeAcceptor } from "@vedauth/test-helpers/kerberosServers"
import { Duration, Effect, Either, Redacted, TestClock } from "effect"
import * as Kerberos from "../../src/Kerberos.js"
import { mintTicket, REALM, serviceKeytab } from "./support.js"

const bindings = new TextEncoder().encode("tls-server-end-point:" + "11".repeat(32))
const start = Date.UTC(2026, 0, 15, 9, 0, 0)

const handshake = (options: { readonly spnego?: boolean; readonly etype?: number } = {}) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(start)
    const acceptor = makeAcceptor({ keytab: serviceKeytab })
    const ticket = mintTicket({ now: start, ...(options.etype === undefined ? {} : { etype: options.etype }) })
    const initiator = yield* Kerberos.initiate(ticket, {
      channelBindings: bindings,
      ...(options.spnego === undefined ? {} : { spnego: options.spnego })
    })
    return { acceptor, ticket, initiator }
  })

describe("Kerberos initiator and acceptor", () => {
  for (const etype of [17, 18, 19, 20]) {
    for (const spnego of [true, false]) {
      it.effect(`enctype ${etype}, ${spnego ? "SPNEGO" : "raw krb5"}: accepted, and the AP-REP completes mutual authentication`, () =>
        Effect.gen(function*() {
          const { acceptor, initiator } = yield* handshake({ spnego, etype })
          const accepted = yield* acceptor.accept(initiator.token, { channelBindings: bindings })
          assert.strictEqual(accepted.client, `alice@${REALM}`)
          assert.strictEqual(accepted.token[0], spnego ? 0xa1 : 0x60)
          yield* initiator.complete(accepted.token)
        }))
    }
  }

  it.effect("an AP-REP made for another AP-REQ fails mutual authentication", () =>
    Effect.gen(function*() {
      const { acceptor, initiator } = yield* handshake()
      const other = yield* Kerberos.initiate(mintTicket({ now: start }), { channelBindings: bindings })
      const answer = yield* acceptor.accept(other.token, { channelBindings: bindings })
      const error = yield* Effect.flip(initiator.complete(answer.token))
      assert.strictEqual(error.reason, "KRB_AP_ERR_MUT_FAIL")
    }))

  it.effect("channel bindings: other ones refused; none accepted unless required", () =>
    Effect.gen(function*() {
      const { acceptor, initiator } = yield* handshake()
      const wrong = yield* Effect.flip(
        acceptor.accept(initiator.token, { channelBindings: new TextEncoder().encode("tls-server-end-point:other") })
      )
      assert.include(wrong.detail, "do not match")
      const unbound = yield* Kerberos.initiate(mintTicket({ now: start }))
      yield* acceptor.accept(unbound.token, { channelBindings: bindings })
      const strict = makeAcceptor({ keytab: serviceKeytab, requireChannelBindings: true })
      const again = yield* Kerberos.initiate(mintTicket({ now: start }))
      const refused = yield* Effect.flip(strict.accept(again.token, { channelBindings: bindings }))
      assert.include(refused.detail, "no channel bindings")
    }))

  it.effect("an authenticator six minutes off the acceptor's clock is KRB_AP_ERR_SKEW with the skew", () =>
    Effect.gen(function*() {
      const { acceptor, initiator } = yield* handshake()
      yield* TestClock.adjust(Duration.minutes(6))
      const error = yield* Effect.flip(acceptor.accept(initiator.token, { channelBindings: bindings }))
      assert.strictEqual(error.reason, "KRB_AP_ERR_SKEW")
      assert.include(error.hint ?? "", "360 s")
    }))

  it.effect("an expired ticket is KRB_AP_ERR_TKT_EXPIRED", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start)
      const ticket = mintTicket({ now: start - 11 * 3600_000 })
      const initiator = yield* Kerberos.initiate(ticket)
      const error = yield* Effect.flip(makeAcceptor({ keytab: serviceKeytab }).accept(initiator.token))
      assert.strictEqual(error.reason, "KRB_AP_ERR_TKT_EXPIRED")
    }))

  it.effect("a replay within the skew is refused; the cache forgets it after the skew", () =>
    Effect.gen(function*() {
      const { acceptor, initiator } = yield* handshake()
      yield* acceptor.accept(initiator.token, { channelBindings: bindings })
      const replay = yield* Effect.flip(acceptor.accept(initiator.token, { channelBindings: bindings }))
      assert.strictEqual(replay.reason, "KRB_AP_ERR_REPEAT")
      yield* TestClock.adjust(Duration.minutes(6))
      // Past the skew the same token is refused for its age instead, so the cache may forget it.
      const late = yield* Effect.flip(acceptor.accept(initiator.token, { channelBindings: bindings }))
      assert.strictEqual(late.reason, "KRB_AP_ERR_SKEW")
    }))

  it.effect("an acceptor with another service's keys, or an old kvno, says which key is missing", () =>
    Effect.gen(function*() {
      const { initiator } = yield* handshake()
      // Variations of the service keytab (no string-to-key: PBKDF2 rounds are not what is tested here).
      const variant = (change: (key: Kerberos.ServiceKey) => Kerberos.ServiceKey): Kerberos.Keytab => ({
        principals: [],
        keys: Redacted.make(Redacted.value(serviceKeytab.keys).map(change))
      })
      const stranger = variant((k) => ({
        ...k,
        principal: { ...k.principal, components: ["HTTP", "other.vedauth.test"] }
      }))
      const noKey = yield* Effect.flip(makeAcceptor({ keytab: stranger }).accept(initiator.token))
      assert.strictEqual(noKey.reason, "KRB_AP_ERR_NOKEY")
      const oldKvno = variant((k) => ({ ...k, kvno: 2 }))
      const badKvno = yield* Effect.flip(makeAcceptor({ keytab: oldKvno }).accept(initiator.token))
      assert.strictEqual(badKvno.reason, "KRB_AP_ERR_BADKEYVER")
      const wrongKey = variant((k) => ({ ...k, key: { ...k.key, keyvalue: k.key.keyvalue.map((b) => b ^ 0x5a) } }))
      const integrity = yield* Effect.flip(makeAcceptor({ keytab: wrongKey }).accept(initiator.token))
      assert.strictEqual(integrity.reason, "KRB_AP_ERR_BAD_INTEGRITY")
    }))

  it.effect("a keytab survives its own encoding, and its keys never print", () =>
    Effect.gen(function*() {
      const decoded = yield* Kerberos.keytabFromBytes(Kerberos.keytabToBytes(serviceKeytab))
      assert.deepStrictEqual(decoded.principals, [`HTTP/tpp.vedauth.test@${REALM}`])
      assert.deepStrictEqual(Redacted.value(decoded.keys), Redacted.value(serviceKeytab.keys))
      assert.notInclude(JSON.stringify(decoded) + String(decoded.keys), "keyvalue")
    }))

  it("spnForUrl: HTTP/<host>, and an IP address is an error that says why", () => {
    assert.deepStrictEqual(
      Kerberos.spnForUrl("https://TPP.Example.com:8443/vedauth"),
      Either.right("HTTP/tpp.example.com")
    )
    for (const url of ["https://10.0.0.5/vedauth", "https://[::1]:443/"]) {
      const result = Kerberos.spnForUrl(url)
      assert.strictEqual(result._tag, "Left")
      if (result._tag === "Left") assert.include(result.left.detail, "IP address")
    }
  })
})
