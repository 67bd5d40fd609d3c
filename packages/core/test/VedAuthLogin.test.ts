import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import * as Grant from "../src/Grant.js"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { AuthenticationFailed } from "../src/VedAuthError.js"
import { password, spentRefresh } from "./fixtures/fakeVedAuth.js"
import { key, setup } from "./fixtures/setup.js"

describe("VedAuth.login and VedAuth.stored", () => {
  it.effect("stored is none before a login and the login's grant after it", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      assert.isTrue(Option.isNone(yield* VedAuth.stored))
      const grant = yield* VedAuth.login
      const stored = yield* VedAuth.stored
      assert.strictEqual(Redacted.value(Option.getOrThrow(stored).accessToken), Redacted.value(grant.accessToken))
      assert.strictEqual(server.counts.authorize, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("login authorizes again even when a fresh grant is stored, and replaces it", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const first = yield* VedAuth.login
      const second = yield* VedAuth.login
      assert.strictEqual(server.counts.authorize, 2)
      assert.notStrictEqual(Redacted.value(second.accessToken), Redacted.value(first.accessToken))
      const token = yield* VedAuth.accessToken
      assert.strictEqual(Redacted.value(token), Redacted.value(second.accessToken))
    }).pipe(Effect.provide(layer))
  })
})

const noPassword = new AuthenticationFailed({ description: "no password given" })

describe("a password given as an effect", () => {
  it.effect("runs only when an authorize needs it, never for a stored fresh grant", () => {
    let asked = 0
    const lazy = Effect.sync(() => {
      asked += 1
      return Redacted.make(password)
    })
    const { layer } = setup(undefined, { password: lazy })
    return Effect.gen(function*() {
      assert.strictEqual(asked, 0)
      yield* VedAuth.accessToken
      assert.strictEqual(asked, 1)
      yield* VedAuth.accessToken
      yield* VedAuth.stored
      assert.strictEqual(asked, 1)
    }).pipe(Effect.provide(layer))
  })

  // A store that records whether its lock is held, to see where the password is asked for.
  const lockWatching = (underLock: Array<boolean>, asked: { count: number }) => {
    let held = 0
    const store = Layer.effect(
      TokenStore.TokenStore,
      Effect.map(Effect.provide(TokenStore.TokenStore, TokenStore.layerMemory), (memory) => ({
        ...memory,
        withLock: <A, E, R>(k: TokenStore.Key, effect: Effect.Effect<A, E, R>) =>
          memory.withLock(
            k,
            Effect.acquireUseRelease(Effect.sync(() => held++), () => effect, () => Effect.sync(() => held--))
          )
      }))
    )
    const prompt = Effect.sync(() => {
      asked.count++
      underLock.push(held > 0)
      return Redacted.make(password)
    })
    return { store, prompt }
  }

  it.effect("is asked for before the store's lock is taken, and only once (managed token, login)", () => {
    const underLock: Array<boolean> = []
    const asked = { count: 0 }
    const { prompt, store } = lockWatching(underLock, asked)
    const { layer, server } = setup(undefined, { password: prompt }, store)
    return Effect.gen(function*() {
      yield* VedAuth.accessToken
      yield* VedAuth.login
      assert.strictEqual(server.counts.authorize, 2)
      assert.strictEqual(asked.count, 1)
      assert.deepStrictEqual(underLock, [false])
    }).pipe(Effect.provide(layer))
  })

  it.effect("login asks before the lock too", () => {
    const underLock: Array<boolean> = []
    const asked = { count: 0 }
    const { prompt, store } = lockWatching(underLock, asked)
    const { layer } = setup(undefined, { password: prompt }, store)
    return Effect.gen(function*() {
      yield* VedAuth.login
      assert.deepStrictEqual(underLock, [false])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a refresh token refused under the lock: the lock is left to ask, the spent token is not tried twice", () => {
    const underLock: Array<boolean> = []
    const asked = { count: 0 }
    const { prompt, store } = lockWatching(underLock, asked)
    const { layer, server } = setup(
      (s) => {
        s.scripted.refresh.push(spentRefresh)
      },
      { password: prompt },
      store
    )
    return Effect.gen(function*() {
      // A grant another run left, in its refresh window: no authorize expected, so no password asked up front.
      yield* Effect.flatMap(TokenStore.TokenStore, (s) =>
        s.set(
          key,
          new Grant.Grant({
            accessToken: Redacted.make("left-access=="),
            refreshToken: Option.some(Redacted.make("left-refresh==")),
            tokenType: "Bearer",
            scope: "certificate:manage",
            identity: "local:{x}",
            issuedAt: DateTime.unsafeMake(0),
            expiresAt: DateTime.unsafeMake(10_000),
            refreshUntil: Option.none()
          })
        ))
      const token = yield* VedAuth.accessToken
      assert.notStrictEqual(Redacted.value(token), "left-access==")
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(server.counts.authorize, 1)
      assert.deepStrictEqual(underLock, [false])
    }).pipe(Effect.provide(layer))
  })

  it.effect("its failure is the authorize's AuthenticationFailed", () => {
    const { layer, server } = setup(undefined, {
      password: Effect.fail(noPassword)
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.accessToken)
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "no password")
      assert.strictEqual(server.counts.authorize, 0)
    }).pipe(Effect.provide(layer))
  })
})

describe("a server URL with a user name or password in it", () => {
  it.effect("fails the layer with a TransportError that never shows the password, before any request", () => {
    const { layer, server } = setup(undefined, { url: "https://alice:hunter2@tpp.example.test" })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(layer).pipe(Effect.scoped))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "user name or password")
      assert.notInclude(error.message, "hunter2")
      assert.notInclude(JSON.stringify(error), "hunter2")
      assert.deepStrictEqual(server.counts, { authorize: 0, refresh: 0, verify: 0, revoke: 0, resource: 0 })
    })
  })
})
