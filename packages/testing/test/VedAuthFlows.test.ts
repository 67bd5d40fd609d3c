/**
 * Core's VedAuth flows against the simulator in memory: the client and the server were written by
 * different hands against the same reference, so agreement here means something.
 */
import { assert, describe, it } from "@effect/vitest"
import { TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { Effect, Layer, Option, Redacted, TestClock } from "effect"
import * as Simulator from "../src/Simulator.js"

const options: VedAuth.Options = {
  url: "https://tpp.example",
  clientId: Simulator.defaultClientId,
  scope: "certificate:manage;configuration:manage",
  username: "CORP\\alice",
  password: Simulator.defaultCredentials.password
}

const layer = (vedAuth: VedAuth.Options = options, simulator?: Simulator.Options) =>
  VedAuth.layer(vedAuth).pipe(Layer.provideMerge(Layer.merge(Simulator.layerTest(simulator), TokenStore.layerMemory)))

describe("core's VedAuth on the simulator", () => {
  it.effect("authorize, verify, refresh (rotating), revoke", () =>
    Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      assert.strictEqual(grant.scope, "certificate:manage;configuration:manage")
      assert.isTrue(Option.isSome(grant.refreshUntil))
      const info = yield* VedAuth.verify(grant.accessToken)
      assert.strictEqual(info.application, "vedauth-demo")
      const next = yield* VedAuth.refresh(grant)
      assert.notStrictEqual(Redacted.value(next.accessToken), Redacted.value(grant.accessToken))
      const spent = yield* Effect.flip(VedAuth.refresh(grant))
      assert.strictEqual(spent._tag, "InvalidGrant")
      const revoked = yield* VedAuth.revoke(next)
      assert.strictEqual(revoked._tag, "Revoked")
      assert.strictEqual((yield* Simulator.grants).length, 0)
      const stats = yield* Simulator.stats
      assert.deepStrictEqual([stats.authorizeIntegrated, stats.refresh, stats.verify, stats.revoke], [1, 2, 1, 1])
    }).pipe(Effect.provide(layer())))

  it.effect("documented refusals arrive as their tagged errors", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* Effect.flip(VedAuth.authorize({ scope: "admin:delete" })))._tag, "InvalidScope")
      assert.strictEqual((yield* Effect.flip(VedAuth.authorize({ clientId: "nobody" })))._tag, "InvalidGrant")
    }).pipe(Effect.provide(layer())))

  it.effect("a wrong password is AuthenticationFailed", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* Effect.flip(VedAuth.authorize()))._tag, "AuthenticationFailed")
    }).pipe(Effect.provide(layer({ ...options, password: Redacted.make("nope") }))))

  it.effect("the managed token: one refresh for many callers ahead of expiry, a new authorize after the grant ends", () =>
    Effect.gen(function*() {
      const first = yield* VedAuth.accessToken
      yield* TestClock.adjust("59 minutes")
      const tokens = yield* Effect.all(Array.from({ length: 100 }, () => VedAuth.accessToken), {
        concurrency: "unbounded"
      })
      assert.strictEqual(new Set(tokens.map(Redacted.value)).size, 1)
      assert.notStrictEqual(Redacted.value(tokens[0]!), Redacted.value(first))
      let stats = yield* Simulator.stats
      assert.deepStrictEqual([stats.authorizeIntegrated, stats.refresh], [1, 1])
      yield* TestClock.adjust("1 day")
      yield* VedAuth.accessToken
      stats = yield* Simulator.stats
      assert.deepStrictEqual([stats.authorizeIntegrated, stats.refresh], [2, 1])
    }).pipe(Effect.provide(layer())))
})
