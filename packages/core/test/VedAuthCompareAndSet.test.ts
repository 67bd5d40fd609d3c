import { assert, describe, it } from "@effect/vitest"
import { Context, Duration, Effect, Layer, Option, Redacted, TestClock } from "effect"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { FakeServer, httpClientLayer, ntlmTransportLayer } from "./fixtures/fakeVedAuth.js"
import { key, options, setup } from "./fixtures/setup.js"

// With a one-hour token the refresh window is 5 minutes: due at 55 minutes.
const intoRefreshWindow = TestClock.adjust(Duration.minutes(56))

/** A store whose lock excludes nobody: what a Redis lock is once it expired under a paused holder. */
const lockless = (store: TokenStore.Service): TokenStore.Service => ({ ...store, withLock: (_key, effect) => effect })

/** Two replicas: two VedAuth layers (each with its own memory cache) on one server and one store. */
const replicas = (server: FakeServer, store: TokenStore.Service) =>
  Effect.gen(function*() {
    const shared = Layer.mergeAll(
      httpClientLayer(server),
      ntlmTransportLayer(server),
      Layer.succeed(TokenStore.TokenStore, store)
    )
    const one = yield* Layer.build(Layer.provide(VedAuth.layer(options), shared))
    const two = yield* Layer.build(Layer.provide(VedAuth.layer(options), shared))
    return [Context.get(one, VedAuth.VedAuth), Context.get(two, VedAuth.VedAuth)] as const
  })

describe("the managed grant on compare-and-set", () => {
  it.effect("a refresh answered after another process rotated the grant does not overwrite it: the newer one survives", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      yield* VedAuth.accessToken
      yield* intoRefreshWindow
      const store = yield* TokenStore.TokenStore
      // While our refresh is on the wire, another replica (whose lock expired) authorizes and stores.
      const newer = yield* VedAuth.authorize()
      server.onRefresh = () => {
        server.onRefresh = undefined
        return Effect.orDie(store.set(key, newer))
      }
      const token = yield* VedAuth.accessToken
      assert.strictEqual(Redacted.value(token), Redacted.value(newer.accessToken))
      const stored = yield* store.get(key)
      assert.isTrue(
        Option.exists(stored, (grant) => Redacted.value(grant.accessToken) === Redacted.value(newer.accessToken))
      )
      assert.strictEqual(server.counts.refresh, 1)
    }).pipe(Effect.provide(layer))
  })

  it.scoped("two replicas refreshing at once with no working lock: one refresh token is sent once, never twice", () =>
    Effect.gen(function*() {
      const server = new FakeServer()
      const store = lockless(yield* Effect.provide(TokenStore.TokenStore, TokenStore.layerMemory))
      const [one, two] = yield* replicas(server, store)
      yield* one.accessToken
      yield* two.accessToken
      assert.strictEqual(server.counts.authorize, 1, "the second replica used the stored grant")
      yield* intoRefreshWindow
      const tokens = yield* Effect.all([one.accessToken, two.accessToken], { concurrency: "unbounded" })
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(
        new Set(server.refreshBodies.map((body) => JSON.stringify(body))).size,
        server.refreshBodies.length
      )
      // Both replicas end on a grant the store holds (the winner's, or the loser's authorize).
      const stored = yield* store.get(key)
      assert.isTrue(Option.isSome(stored))
      assert.include(tokens.map(Redacted.value), Redacted.value(Option.getOrThrow(stored).accessToken))
    }))

  it.scoped("a replica whose memory holds a pair another replica rotated uses the rotation: no refresh, no authorize", () =>
    Effect.gen(function*() {
      const server = new FakeServer()
      const store = yield* Effect.provide(TokenStore.TokenStore, TokenStore.layerMemory)
      const [one, two] = yield* replicas(server, store)
      yield* one.accessToken
      yield* intoRefreshWindow
      // Replica two rotates; replica one still holds the old (now spent) pair in its memory.
      const rotated = yield* two.accessToken
      assert.strictEqual(server.counts.refresh, 1)
      const token = yield* one.accessToken
      assert.strictEqual(Redacted.value(token), Redacted.value(rotated))
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(server.counts.authorize, 1)
    }))

  it.effect("revoke removes only the record it read; login writes over whatever the store holds", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const tokenOf = Effect.map(store.get(key), Option.map((grant) => Redacted.value(grant.accessToken)))
      const first = yield* VedAuth.accessToken
      const other = yield* VedAuth.authorize()
      yield* store.set(key, other)
      // Revoking a token that is no longer the stored one leaves the stored grant alone.
      yield* VedAuth.revoke(first)
      assert.deepStrictEqual(yield* tokenOf, Option.some(Redacted.value(other.accessToken)))
      const logged = yield* VedAuth.login
      assert.deepStrictEqual(yield* tokenOf, Option.some(Redacted.value(logged.accessToken)))
      yield* VedAuth.revoke(logged)
      assert.isTrue(Option.isNone(yield* store.get(key)))
      assert.strictEqual(server.counts.authorize, 3)
    }).pipe(Effect.provide(layer))
  })
})
