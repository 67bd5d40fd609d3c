/**
 * Kerberos end to end in memory: our client against our minimal KDC (`Kerberos.makeKdc`), then our
 * acceptor, all on the TestClock. (Our KDC against MIT's kinit is in platform-node's interop tests.)
 */
import { assert, describe, it } from "@effect/vitest"
import { makeAcceptor, makeKdc } from "@vedauth/test-helpers/kerberosServers"
import { Effect, Redacted, TestClock } from "effect"
import * as Kerberos from "../../src/Kerberos.js"
import { REALM, serviceKeytab, SPN } from "./support.js"

const start = Date.UTC(2026, 0, 15, 9)
const password = Redacted.make("Alice-Password-1")

const realm = Effect.gen(function*() {
  yield* TestClock.setTime(start)
  const principal = yield* Kerberos.parsePrincipal(`alice@${REALM}`)
  const aliceKeys = yield* Kerberos.keytabFromPassword(principal, password)
  return makeKdc({ realm: REALM, keytabs: [aliceKeys, serviceKeytab] })
})

describe("Kerberos.makeKdc", () => {
  it.effect("password → AS (with pre-authentication) → TGS → AP-REQ accepted → AP-REP verified, in 3 KDC round trips", () =>
    Effect.gen(function*() {
      const kdc = yield* realm
      const ticket = yield* Kerberos.getTicket({
        principal: `alice@${REALM}`,
        keySource: { _tag: "Password", password },
        spn: SPN,
        kdc: "kdc.invalid"
      }).pipe(Effect.provide(kdc.layer))
      assert.strictEqual(ticket.kdcRoundTrips, 3)
      assert.strictEqual(ticket.server, `${SPN}@${REALM}`)
      const initiator = yield* Kerberos.initiate(ticket)
      const accepted = yield* makeAcceptor({ keytab: serviceKeytab }).accept(initiator.token)
      assert.strictEqual(accepted.client, `alice@${REALM}`)
      yield* initiator.complete(accepted.token)
    }))

  it.effect("a wrong password, an unknown user and an unknown SPN get the errors a real KDC gives", () =>
    Effect.gen(function*() {
      const kdc = yield* realm
      const ask = (principal: string, secret: string, spn: string) =>
        Effect.flip(
          Kerberos.getTicket({
            principal,
            keySource: { _tag: "Password", password: Redacted.make(secret) },
            spn,
            kdc: "kdc.invalid"
          })
        ).pipe(Effect.provide(kdc.layer))
      const wrong = yield* ask(`alice@${REALM}`, "nope", SPN)
      assert.strictEqual(wrong._tag, "AuthenticationFailed")
      assert.include(wrong.message, "KDC_ERR_PREAUTH_FAILED")
      const unknown = yield* ask(`mallory@${REALM}`, "x", SPN)
      assert.include(unknown.message, "KDC_ERR_C_PRINCIPAL_UNKNOWN")
      const noSpn = yield* ask(`alice@${REALM}`, Redacted.value(password), "HTTP/nowhere.vedauth.test")
      assert.strictEqual(noSpn._tag, "KerberosError")
      assert.include(noSpn.message, "no SPN HTTP/nowhere.vedauth.test")
    }))

  it.effect("garbage sent to the KDC is answered with a KRB-ERROR, not a crash", () =>
    Effect.gen(function*() {
      const kdc = yield* realm
      const reply = yield* kdc.handle(new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"))
      assert.strictEqual(reply[0], 0x7e) // [APPLICATION 30] KRB-ERROR
    }))
})
