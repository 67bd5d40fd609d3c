/**
 * Interop: the portable Kerberos client (AS and TGS exchanges, keytabs) against a real MIT KDC on
 * loopback, and our acceptor on tickets MIT issued.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { makeAcceptor } from "@vedauth/test-helpers/kerberosServers"
import { REALM, type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { Effect, Either, Layer, Redacted, TestClock } from "effect"
import * as NodeKdcTransport from "../../src/NodeKdcTransport.js"
import * as NodeTokenStoreFiles from "../../src/NodeTokenStoreFiles.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
const carol = { name: "carol", password: "Battery-Staple-9" }
const dave = { name: "dave", password: "Sha2-Only-Keys-3" }
let realm: Realm

beforeAll(async () => {
  realm = await startRealm([alice, carol])
  // dave has RFC 8009 keys only, so his AS exchange runs on aes256-cts-hmac-sha384-192.
  await realm.kadmin(`addprinc +requires_preauth -e aes256-cts-hmac-sha384-192:normal -pw ${dave.password} dave`)
}, 30_000)
afterAll(() => realm?.stop())

const live = Layer.merge(
  NodeKdcTransport.layer({ timeout: "5 seconds" }),
  Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)
)
const kdc = () => `127.0.0.1:${realm.kdc.port}`
const password = (p: string): Kerberos.KeySource => ({ _tag: "Password", password: Redacted.make(p) })

const noSecret = (error: unknown, secret: string) => {
  for (const text of [String(error), JSON.stringify(error), (error as Error).message]) {
    assert.isFalse(text.includes(secret), "a secret leaked into the error")
  }
}

describe("Kerberos against MIT krb5kdc", () => {
  it.live("password: AS with pre-authentication, then TGS for HTTP/host, in 3 KDC round trips", () =>
    Effect.gen(function*() {
      const ticket = yield* Kerberos.getTicket({
        principal: `alice@${REALM}`,
        keySource: password(alice.password),
        spn: SPN,
        kdc: kdc()
      })
      assert.strictEqual(ticket.client, `alice@${REALM}`)
      assert.strictEqual(ticket.server, `${SPN}@${REALM}`)
      assert.strictEqual(ticket.kdcRoundTrips, 3)
      assert.isTrue(ticket.expiresAt.getTime() > Date.now())
      assert.notInclude(JSON.stringify(ticket), "keyvalue")
    }).pipe(Effect.provide(live)))

  it.live("RFC 8009: a user with only aes256-cts-hmac-sha384-192 keys gets tickets too", () =>
    Effect.gen(function*() {
      const ticket = yield* Kerberos.getTicket({
        principal: `dave@${REALM}`,
        keySource: password(dave.password),
        spn: SPN,
        kdc: kdc()
      })
      assert.strictEqual(ticket.client, `dave@${REALM}`)
      const log = yield* Effect.promise(() => realm.kdcLog())
      assert.match(log, /AS_REQ.*ISSUE.*rep=aes256-cts-hmac-sha384-192\(20\).*dave@/)
    }).pipe(Effect.provide(live)))

  it.live("REALM\\user works as well as user@REALM", () =>
    Effect.gen(function*() {
      const ticket = yield* Kerberos.getTicket({
        principal: `${REALM}\\alice`,
        keySource: password(alice.password),
        spn: SPN,
        kdc: kdc()
      })
      assert.strictEqual(ticket.client, `alice@${REALM}`)
    }).pipe(Effect.provide(live)))

  it.live("a wrong password is AuthenticationFailed (KDC_ERR_PREAUTH_FAILED), without the password", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Kerberos.getTicket({
          principal: `alice@${REALM}`,
          keySource: password("wrong-password-1"),
          spn: SPN,
          kdc: kdc()
        })
      )
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "KDC_ERR_PREAUTH_FAILED")
      noSecret(error, "wrong-password-1")
    }).pipe(Effect.provide(live)))

  it.live("an unknown user is AuthenticationFailed (KDC_ERR_C_PRINCIPAL_UNKNOWN)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Kerberos.getTicket({ principal: `mallory@${REALM}`, keySource: password("x"), spn: SPN, kdc: kdc() })
      )
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "KDC_ERR_C_PRINCIPAL_UNKNOWN")
    }).pipe(Effect.provide(live)))

  it.live("an SPN nobody registered is a KerberosError whose hint says so", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Kerberos.getTicket({
          principal: `alice@${REALM}`,
          keySource: password(alice.password),
          spn: "HTTP/nowhere.vedauth.test",
          kdc: kdc()
        })
      )
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag !== "KerberosError") return
      assert.strictEqual(error.reason, "KDC_ERR_S_PRINCIPAL_UNKNOWN")
      assert.include(error.hint ?? "", "no SPN HTTP/nowhere.vedauth.test")
    }).pipe(Effect.provide(live)))

  it.effect("a clock an hour ahead of the KDC's is KRB_AP_ERR_SKEW with the skew in the hint", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now() + 3600_000)
      const error = yield* Effect.flip(
        Kerberos.getTicket({ principal: `alice@${REALM}`, keySource: password(alice.password), spn: SPN, kdc: kdc() })
      )
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag !== "KerberosError") return
      assert.strictEqual(error.reason, "KRB_AP_ERR_SKEW")
      assert.match(error.hint ?? "", /clock is 3[56]\d\d s ahead/)
    }).pipe(Effect.provide(live)))

  it.live("no KDC listening is a TransportError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Kerberos.getTicket({
          principal: `alice@${REALM}`,
          keySource: password(alice.password),
          spn: SPN,
          kdc: "127.0.0.1:1"
        })
      )
      assert.strictEqual(error._tag, "TransportError")
      noSecret(error, alice.password)
    }).pipe(Effect.provide(live)))

  it.live("a keytab written by kadmin ktadd: a TGT and service ticket without a password", () =>
    Effect.gen(function*() {
      const file = yield* Effect.promise(() => realm.keytab(`carol@${REALM}`, "carol.keytab", { keepKeys: true }))
      const keytab = yield* Kerberos.readKeytab(file)
      assert.deepStrictEqual(keytab.principals, [`carol@${REALM}`])
      const ticket = yield* Kerberos.getTicket({
        principal: `carol@${REALM}`,
        keySource: { _tag: "Keytab", keytab },
        spn: SPN,
        kdc: kdc()
      })
      assert.strictEqual(ticket.client, `carol@${REALM}`)
    }).pipe(Effect.provide(live)))

  it.live("our acceptor, holding the service keytab from kadmin, accepts our AP-REQ with MIT's ticket; mutual auth completes", () =>
    Effect.gen(function*() {
      const file = yield* Effect.promise(() => realm.keytab(SPN, "http.keytab"))
      const acceptor = makeAcceptor({ keytab: yield* Kerberos.readKeytab(file), requireChannelBindings: true })
      const ticket = yield* Kerberos.getTicket({
        principal: `alice@${REALM}`,
        keySource: password(alice.password),
        spn: SPN,
        kdc: kdc()
      })
      const bindings = new TextEncoder().encode("tls-server-end-point:0123456789abcdef0123456789abcdef")
      const initiator = yield* Kerberos.initiate(ticket, { channelBindings: bindings })
      const accepted = yield* acceptor.accept(initiator.token, { channelBindings: bindings })
      assert.strictEqual(accepted.client, `alice@${REALM}`)
      yield* initiator.complete(accepted.token)
      // The same token again is a replay.
      const replay = yield* Effect.flip(acceptor.accept(initiator.token, { channelBindings: bindings }))
      assert.strictEqual(replay.reason, "KRB_AP_ERR_REPEAT")
    }).pipe(Effect.provide(live)))
})

describe("Kerberos.parsePrincipal", () => {
  it("takes user@REALM, REALM\\user and a default realm; refuses a name without realm", () => {
    assert.deepStrictEqual(
      Kerberos.parsePrincipal("alice@corp.example"),
      Either.right({ name: ["alice"], realm: "CORP.EXAMPLE" })
    )
    assert.deepStrictEqual(Kerberos.parsePrincipal("CORP\\alice"), Either.right({ name: ["alice"], realm: "CORP" }))
    assert.deepStrictEqual(
      Kerberos.parsePrincipal("HTTP/tpp.corp@CORP"),
      Either.right({ name: ["HTTP", "tpp.corp"], realm: "CORP" })
    )
    assert.isTrue(Either.isLeft(Kerberos.parsePrincipal("alice")))
  })
})
