/**
 * Core's authorize with Kerberos inside Negotiate against the simulator's acceptor and KDC, in
 * memory: the AP-REQ on the first request, the AP-REP verified, the mechanism choice, the errors.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { KdcTransport, Kerberos, TokenStore, WindowsAuthHandshake } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { Clock, Effect, Layer, Logger, Redacted } from "effect"
import * as Simulator from "../src/Simulator.js"

const options: VedAuth.Options = {
  url: "http://tpp.corp.example",
  allowHttp: true,
  clientId: Simulator.defaultClientId,
  scope: "certificate:manage",
  username: "alice@CORP.EXAMPLE",
  password: Simulator.defaultCredentials.password,
  mechanism: "kerberos",
  kerberos: { kdc: "kdc.corp.example" }
}

const { kerberos: _, mechanism: __, ...withoutKerberos } = options

const layer = (vedAuth: VedAuth.Options = options, simulator: Simulator.Options = { kerberos: {} }) =>
  VedAuth.layer(vedAuth).pipe(Layer.provideMerge(Layer.merge(Simulator.layerTest(simulator), TokenStore.layerMemory)))

describe("Kerberos against the simulator in memory", () => {
  it.effect("authorize: AS and TGS with the simulator's KDC, then one HTTP round trip with the AP-REQ", () =>
    Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      assert.strictEqual(grant.scope, "certificate:manage")
      const stats = yield* Simulator.stats
      assert.strictEqual(stats.handshakesCompleted, 1)
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
      assert.strictEqual(stats.authorizeIntegrated, 1)
    }).pipe(Effect.provide(layer())))

  it.effect("a wrong password is refused by the KDC: AuthenticationFailed, no HTTP request", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.strictEqual((yield* Simulator.stats).requests, 0)
      assert.notInclude(JSON.stringify(error), "nope")
    }).pipe(Effect.provide(layer({ ...options, password: Redacted.make("nope") }))))

  it.effect("an SPN the realm does not know is a KerberosError with a hint", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag === "KerberosError") assert.strictEqual(error.reason, "KDC_ERR_S_PRINCIPAL_UNKNOWN")
    }).pipe(Effect.provide(layer({ ...options, url: "http://other.corp.example" }))))

  it.effect("mechanism kerberos against a server offering NTLM only fails; negotiate falls back to NTLM (CORP\\alice with the realm option)", () =>
    Effect.gen(function*() {
      const strict = yield* Effect.flip(VedAuth.authorize()).pipe(
        Effect.provide(layer(options, { kerberos: {}, schemes: ["NTLM"] }))
      )
      assert.strictEqual(strict._tag, "NtlmProtocolError")
      const grant = yield* VedAuth.authorize().pipe(
        Effect.provide(
          layer({
            ...options,
            username: "CORP\\alice",
            mechanism: "negotiate",
            kerberos: { kdc: "kdc.corp.example", realm: "CORP.EXAMPLE" }
          }, { kerberos: {}, schemes: ["NTLM"] })
        )
      )
      assert.strictEqual(grant.scope, "certificate:manage")
    }))

  it.effect("negotiate without Kerberos settings is NTLM, as before", () =>
    Effect.gen(function*() {
      yield* VedAuth.authorize()
      assert.deepStrictEqual((yield* Simulator.stats).roundTripsPerHandshake, [2])
    }).pipe(Effect.provide(layer(withoutKerberos))))

  it.effect("negotiate goes on with NTLM when no KDC answers", () =>
    Effect.gen(function*() {
      yield* VedAuth.authorize()
      assert.deepStrictEqual((yield* Simulator.stats).roundTripsPerHandshake, [2])
    }).pipe(Effect.provide(layer({ ...options, mechanism: "negotiate" }, {}))))

  it.effect("a missing or wrong AP-REP from the server is a KerberosError (mutual authentication)", () =>
    Effect.gen(function*() {
      yield* Simulator.setFaults({ kerberosMutualAuth: "omit" })
      const missing = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(missing._tag, "KerberosError")
      if (missing._tag === "KerberosError") assert.strictEqual(missing.reason, "KRB_AP_ERR_MUT_FAIL")
      yield* Simulator.setFaults({ kerberosMutualAuth: "corrupt" })
      const wrong = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(wrong._tag, "KerberosError")
      yield* Simulator.setFaults({})
      yield* VedAuth.authorize()
    }).pipe(Effect.provide(layer())))

  describe("a server that refuses the ticket the KDC issued", () => {
    const negotiate: VedAuth.Options = {
      ...options,
      username: "CORP\\alice",
      mechanism: "negotiate",
      kerberos: { kdc: "kdc.corp.example", realm: "CORP.EXAMPLE" }
    }
    const captured = () => {
      const lines: Array<string> = []
      return {
        lines,
        logger: Logger.replace(
          Logger.defaultLogger,
          Logger.make(({ logLevel, message }) => void lines.push(`${logLevel.label} ${String(message)}`))
        )
      }
    }

    for (const [fault, counted] of [["wrong-key", "KRB_AP_ERR_MODIFIED"], ["reject", "SPNEGO_REJECT"]] as const) {
      it.effect(`negotiate (${fault}): one Kerberos round trip, then NTLM once on a fresh exchange (2 round trips), and a warning that says why`, () => {
        const log = captured()
        return Effect.gen(function*() {
          const grant = yield* VedAuth.authorize().pipe(Effect.provide(log.logger))
          assert.strictEqual(grant.scope, "certificate:manage")
          const stats = yield* Simulator.stats
          assert.strictEqual(stats.requests, 3)
          assert.deepStrictEqual(stats.rejections, { [counted]: 1 })
          assert.deepStrictEqual(stats.roundTripsPerHandshake, [2])
          assert.strictEqual(stats.authorizeIntegrated, 1)
          const warnings = log.lines.filter((line) => line.startsWith("WARN"))
          assert.strictEqual(warnings.length, 1, log.lines.join("\n"))
          assert.include(
            warnings[0],
            "refused the Kerberos ticket of alice@CORP.EXAMPLE for HTTP/tpp.corp.example@CORP.EXAMPLE"
          )
          assert.include(warnings[0], fault === "reject" ? "SPNEGO_REJECT" : "a bare Negotiate challenge")
          assert.notInclude(log.lines.join("\n"), Redacted.value(Simulator.defaultCredentials.password))
        }).pipe(Effect.provide(layer(negotiate, { kerberos: {}, faults: { kerberosAcceptor: fault } })))
      })
    }

    it.effect("mechanism kerberos never falls back: a KerberosError that names the SPN to check, after one request", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(VedAuth.authorize())
        assert.strictEqual(error._tag, "KerberosError")
        if (error._tag !== "KerberosError") return
        assert.strictEqual(error.reason, WindowsAuthHandshake.serverRefusedTicket)
        assert.include(error.hint ?? "", "HTTP/tpp.corp.example@CORP.EXAMPLE")
        const stats = yield* Simulator.stats
        assert.strictEqual(stats.requests, 1)
        assert.strictEqual(stats.handshakesCompleted, 0)
      }).pipe(Effect.provide(layer(options, { kerberos: {}, faults: { kerberosAcceptor: "wrong-key" } }))))

    it.effect("a wrong password is the KDC's refusal: AuthenticationFailed, no NTLM and no HTTP request even under negotiate", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(VedAuth.authorize())
        assert.strictEqual(error._tag, "AuthenticationFailed")
        assert.strictEqual((yield* Simulator.stats).requests, 0)
      }).pipe(
        Effect.provide(
          layer({ ...negotiate, password: Redacted.make("nope") }, {
            kerberos: {},
            faults: { kerberosAcceptor: "wrong-key" }
          })
        )
      ))
  })

  it.scoped("a keytab and a credential cache need no password; the second layer reuses the cached tickets (no KDC trip)", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const keytab = yield* Kerberos.keytabFromPassword(
        { name: ["alice"], realm: "CORP.EXAMPLE" },
        Simulator.defaultCredentials.password
      )
      yield* fs.writeFile(`${dir}/alice.keytab`, Kerberos.keytabToBytes(keytab))
      const cache = `FILE:${dir}/ccache`
      const { password: _p, username: _u, ...rest } = options
      let kdcTrips = 0
      const counting = Layer.unwrapEffect(
        Effect.map(Simulator.Simulator, (sim) =>
          KdcTransport.layerMemory((_, message) => {
            kdcTrips++
            return Effect.map(Clock.currentTimeMillis, (now) => sim.kerberos!.kdc.handle(message, now))
          }))
      )
      const run = (vedAuth: VedAuth.Options) =>
        VedAuth.authorize().pipe(
          Effect.provide(
            VedAuth.layer(vedAuth).pipe(
              Layer.provide(
                Layer.mergeAll(
                  Simulator.layerNtlmTransport,
                  Simulator.layerHttpClient,
                  counting,
                  TokenStore.layerMemory,
                  Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)
                )
              )
            )
          )
        )
      yield* run({ ...rest, kerberos: { kdc: "kdc.corp.example", keytab: `${dir}/alice.keytab`, cache } })
      assert.strictEqual(kdcTrips, 3)
      assert.isTrue(yield* fs.exists(`${dir}/ccache`))
      // No user, no password, no keytab: the cache names alice and holds her service ticket.
      yield* run({ ...rest, kerberos: { kdc: "kdc.corp.example", cache } })
      assert.strictEqual(kdcTrips, 3)
      assert.deepStrictEqual((yield* Simulator.stats).roundTripsPerHandshake, [1, 1])
    }).pipe(
      Effect.provide(
        Layer.merge(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer), Simulator.layer({ kerberos: {} }))
      )
    ))
})
