import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Redacted, TestClock } from "effect"
import type { Grant } from "../src/Grant.js"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { failingStore, key, setup } from "./fixtures/setup.js"

const storeSet = (grant: Grant) => Effect.flatMap(TokenStore.TokenStore, (store) => store.set(key, grant))

describe("the managed token's in-process cache", () => {
  it.effect("sees a rotation by another process within seconds, not at its own refresh time", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const first = yield* VedAuth.accessToken
      // Another process (the CLI, a replica) authorized or refreshed and stored the new grant.
      const rotated = yield* VedAuth.authorize()
      server.access.get(Redacted.value(first))!.revoked = true
      yield* storeSet(rotated)
      yield* TestClock.adjust(Duration.seconds(6))
      assert.strictEqual(Redacted.value(yield* VedAuth.accessToken), Redacted.value(rotated.accessToken))
      assert.strictEqual(server.counts.refresh, 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("within the check interval it is a plain read: the store is not touched", () => {
    let reads = 0
    const counting = Layer.effect(
      TokenStore.TokenStore,
      Effect.map(Effect.provide(TokenStore.TokenStore, TokenStore.layerMemory), (memory) => ({
        ...memory,
        get: (k: TokenStore.Key) => Effect.zipRight(Effect.sync(() => reads++), memory.get(k))
      }))
    )
    const { layer } = setup(undefined, undefined, counting)
    return Effect.gen(function*() {
      yield* VedAuth.accessToken
      const before = reads
      for (let i = 0; i < 100; i++) yield* VedAuth.accessToken
      assert.strictEqual(reads, before)
      yield* TestClock.adjust(Duration.seconds(5))
      yield* VedAuth.accessToken
      yield* VedAuth.accessToken
      assert.strictEqual(reads, before + 1)
    }).pipe(Effect.provide(layer))
  })
})

describe("a rotation the store fails to save", () => {
  it.effect("is kept in memory: this call fails with TokenStoreError, the next ones use the new pair", () => {
    const failing = failingStore(true)
    const { layer, server } = setup(undefined, undefined, failing.layer)
    return Effect.gen(function*() {
      const old = yield* VedAuth.accessToken
      yield* TestClock.adjust(Duration.minutes(56))
      failing.control.failSet = true
      const exit = yield* Effect.exit(VedAuth.accessToken)
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(exit), "TokenStoreError")
      assert.strictEqual(server.counts.refresh, 1)
      // The server spent the old pair; the new one is still usable here, across store re-checks.
      const next = yield* VedAuth.accessToken
      assert.notStrictEqual(Redacted.value(next), Redacted.value(old))
      yield* TestClock.adjust(Duration.seconds(30))
      assert.strictEqual(Redacted.value(yield* VedAuth.accessToken), Redacted.value(next))
      // At its own refresh time it is refreshed from the unsaved pair, not the spent stored one.
      failing.control.failSet = false
      yield* TestClock.adjust(Duration.minutes(56))
      const third = yield* VedAuth.accessToken
      assert.notStrictEqual(Redacted.value(third), Redacted.value(next))
      assert.strictEqual(server.counts.refresh, 2)
      assert.strictEqual(server.counts.authorize, 1)
    }).pipe(Effect.provide(layer))
  })
})
