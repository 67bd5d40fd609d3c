/**
 * Where each realm's KDC is found during a cross-realm exchange: the `kdc` option serves the
 * client's realm only; another realm's KDCs come from krb5.conf `[realms]`, else DNS SRV (the
 * transport's `lookup`), each resolved once; a realm found nowhere is a `TransportError` naming it.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Kerberos as Engine, Krb5Conf } from "@vedauth/winauth"
import { Effect, Layer } from "effect"
import { runExchange } from "../../src/internal/kerberos/driver.js"
import { type KdcAddress, KdcTransport } from "../../src/KdcTransport.js"

/** An exchange that sends one message to each realm in turn, then is done. */
const visiting = (realms: ReadonlyArray<string>): Engine.TicketExchange => {
  let at = 0
  const next = (): Promise<Engine.Step> =>
    Promise.resolve(
      at < realms.length
        ? { _tag: "Send", realm: realms[at++]!, message: new Uint8Array([at]) }
        : { _tag: "Done", ticket: {} as Engine.Credential, tgt: undefined, obtained: [], roundTrips: realms.length }
    )
  return { start: next, receive: next, clientRealm: () => "USERS.TEST" }
}

const conf = Krb5Conf.parse(
  [
    "[realms]",
    "  SERVICES.TEST = {",
    "    kdc = kdc.services.test:8801",
    "  }",
    "  USERS.TEST = {",
    "    kdc = conf.users.test:8800",
    "  }"
  ].join("\n")
)

const recording = () => {
  const sent: Array<string> = []
  const lookups: Array<string> = []
  const layer = Layer.succeed(
    KdcTransport,
    KdcTransport.of({
      send: (kdc: KdcAddress) => Effect.sync(() => (sent.push(`${kdc.host}:${kdc.port}`), new Uint8Array())),
      lookup: (realm: string) =>
        Effect.sync(() => {
          lookups.push(realm)
          return realm === "FAR.TEST" ? [{ host: "srv.far.test", port: 88 }] : []
        })
    })
  )
  return { sent, lookups, layer }
}

describe("cross-realm: each realm's KDCs", () => {
  it.effect("the kdc option for the client's realm, krb5.conf [realms] for the service's, DNS SRV for a realm krb5.conf does not list", () =>
    Effect.gen(function*() {
      const { layer, lookups, sent } = recording()
      yield* runExchange(visiting(["USERS.TEST", "SERVICES.TEST", "FAR.TEST", "FAR.TEST"]), "USERS.TEST", [
        "given.users.test:88"
      ], conf).pipe(Effect.provide(layer))
      assert.deepStrictEqual(sent, [
        "given.users.test:88",
        "kdc.services.test:8801",
        "srv.far.test:88",
        "srv.far.test:88"
      ])
      // Resolved once per realm.
      assert.deepStrictEqual(lookups, ["FAR.TEST"])
    }))

  it.effect("without the kdc option the client's realm comes from krb5.conf too; a realm found nowhere is a TransportError naming it", () =>
    Effect.gen(function*() {
      const { layer, sent } = recording()
      const error = yield* Effect.flip(
        runExchange(visiting(["USERS.TEST", "NOWHERE.TEST"]), "USERS.TEST", undefined, conf).pipe(Effect.provide(layer))
      )
      assert.deepStrictEqual(sent, ["conf.users.test:8800"])
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "NOWHERE.TEST")
    }))
})
