/**
 * Core's `kerberos: { system: true }` seam against the simulator in memory: the "system" here is
 * core's own initiator behind the `SystemKerberos` tag (sending no channel bindings, as the addon),
 * so these tests run everywhere; the real addon is in SystemKerberos.interop.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { KdcTransport, Kerberos, SystemKerberos, TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { KerberosError } from "@vedauth/core/VedAuthError"
import { Effect, Fiber, Layer, TestClock } from "effect"
import * as Simulator from "../src/Simulator.js"

const options: VedAuth.Options = {
  url: "http://tpp.corp.example",
  allowHttp: true,
  clientId: Simulator.defaultClientId,
  scope: "certificate:manage",
  mechanism: "kerberos",
  kerberos: { system: true }
}

/** A system initiator holding alice's key, as a kinit cache would; `refuse` makes it fail as GSS-API would. */
const system = (targets: Array<SystemKerberos.Target>, refuse?: KerberosError) =>
  Layer.effect(
    SystemKerberos.SystemKerberos,
    Effect.map(KdcTransport.KdcTransport, (kdc): SystemKerberos.Service => ({
      channelBindings: false,
      initiate: (target) =>
        Effect.gen(function*() {
          targets.push(target)
          if (refuse !== undefined) return yield* refuse
          const ticket = yield* Kerberos.getTicket({
            principal: "alice@CORP.EXAMPLE",
            keySource: { _tag: "Password", password: Simulator.defaultCredentials.password },
            spn: target.spn,
            kdc: "kdc.corp.example"
          })
          return yield* Kerberos.initiate(ticket)
        }).pipe(
          Effect.provideService(KdcTransport.KdcTransport, kdc),
          Effect.catchTags({
            AuthenticationFailed: (error) => new KerberosError({ reason: "GSS_FAILURE", detail: error.message }),
            TransportError: (error) => new KerberosError({ reason: "NO_KDC", detail: error.message })
          })
        )
    }))
  )

const layer = (
  vedAuth: VedAuth.Options,
  systemLayer?: Layer.Layer<SystemKerberos.SystemKerberos, never, KdcTransport.KdcTransport>
) => {
  const simulator = Simulator.layerTest({ kerberos: {} })
  const services = systemLayer === undefined ? simulator : Layer.provideMerge(systemLayer, simulator)
  return VedAuth.layer(vedAuth).pipe(Layer.provideMerge(Layer.merge(services, TokenStore.layerMemory)))
}

/** A KerberosError's name, else the error's tag. */
const nameOf = (error: { readonly _tag: string }) => error instanceof KerberosError ? error.reason : error._tag

const noCredentials = new KerberosError({
  reason: "NO_CREDENTIALS",
  detail: "No Kerberos credentials available",
  hint: "run kinit"
})

describe("kerberos.system: the token from SystemKerberos", () => {
  it.effect("the system's token authorizes in one request, no password; it is asked for HTTP/<host> of the URL", () => {
    const targets: Array<SystemKerberos.Target> = []
    return Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(targets, [{ spn: "HTTP/tpp.corp.example", url: "http://tpp.corp.example" }])
      assert.deepStrictEqual((yield* Simulator.stats).roundTripsPerHandshake, [1])
    }).pipe(Effect.provide(layer(options, system(targets))))
  })

  it.effect("the server's AP-REP is handed back to the system's context: a missing or corrupt one fails", () =>
    Effect.gen(function*() {
      yield* Simulator.setFaults({ kerberosMutualAuth: "omit" })
      const missing = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(nameOf(missing), "KRB_AP_ERR_MUT_FAIL")
      yield* Simulator.setFaults({ kerberosMutualAuth: "corrupt" })
      assert.strictEqual((yield* Effect.flip(VedAuth.authorize()))._tag, "KerberosError")
    }).pipe(Effect.provide(layer(options, system([])))))

  it.effect("no SystemKerberos in the layer: a KerberosError that says which layer to provide, and no request", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag === "KerberosError") {
        assert.strictEqual(error.reason, "NO_SYSTEM_KERBEROS")
        assert.include(error.hint ?? "", "NodeSystemKerberos.layer")
      }
      assert.strictEqual((yield* Simulator.stats).requests, 0)
    }).pipe(Effect.provide(layer(options))))

  it.effect("no credentials: mechanism kerberos fails with the system's error, before any request", () =>
    Effect.gen(function*() {
      assert.strictEqual(nameOf(yield* Effect.flip(VedAuth.authorize())), "NO_CREDENTIALS")
      assert.strictEqual((yield* Simulator.stats).requests, 0)
    }).pipe(Effect.provide(layer(options, system([], noCredentials)))))

  it.effect("no credentials under negotiate with a password: NTLM instead", () =>
    Effect.gen(function*() {
      yield* VedAuth.authorize()
      assert.deepStrictEqual((yield* Simulator.stats).roundTripsPerHandshake, [2])
    }).pipe(Effect.provide(layer(
      { ...options, mechanism: "negotiate", username: "CORP\\alice", password: Simulator.defaultCredentials.password },
      system([], noCredentials)
    ))))

  it.effect("a system library that never answers (a KDC that swallows packets): TransportError after the request timeout", () => {
    const hanging = Layer.succeed(SystemKerberos.SystemKerberos, {
      channelBindings: false,
      initiate: () => Effect.never
    })
    return Effect.gen(function*() {
      const authorizing = yield* Effect.fork(Effect.flip(VedAuth.authorize()))
      yield* TestClock.adjust("10 seconds")
      const error = yield* Fiber.join(authorizing)
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "made no token within 10s")
      assert.strictEqual((yield* Simulator.stats).requests, 0)
    }).pipe(Effect.provide(layer({ ...options, requestTimeout: "10 seconds" }, hanging)))
  })

  it.effect("an addon that cannot load is no reason to fall back: negotiate fails with it", () => {
    const unavailable = new KerberosError({
      reason: "SYSTEM_KERBEROS_UNAVAILABLE",
      detail: "the kerberos addon could not be loaded"
    })
    return Effect.gen(function*() {
      assert.strictEqual(nameOf(yield* Effect.flip(VedAuth.authorize())), "SYSTEM_KERBEROS_UNAVAILABLE")
    }).pipe(Effect.provide(layer(
      { ...options, mechanism: "negotiate", username: "CORP\\alice", password: Simulator.defaultCredentials.password },
      system([], unavailable)
    )))
  })
})
