import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import * as VedAuth from "../src/VedAuth.js"
import * as VedAuthError from "../src/VedAuthError.js"
import { AuthenticationFailed } from "../src/VedAuthError.js"
import { password } from "./fixtures/fakeVedAuth.js"
import { setup } from "./fixtures/setup.js"

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
  it.effect("is refused by every operation with a TransportError that never shows the password", () => {
    const { layer, server } = setup(undefined, { url: "https://alice:hunter2@tpp.example.test" })
    return Effect.gen(function*() {
      const operations: ReadonlyArray<Effect.Effect<unknown, VedAuthError.VedAuthError, VedAuth.VedAuth>> = [
        VedAuth.accessToken,
        VedAuth.login,
        VedAuth.authorize(),
        VedAuth.verify(Redacted.make("t==")),
        VedAuth.isAuthServer
      ]
      for (const operation of operations) {
        const error = yield* Effect.flip(operation)
        assert.strictEqual(error._tag, "TransportError")
        assert.include(error.message, "user name or password")
        assert.notInclude(error.message, "hunter2")
        assert.notInclude(JSON.stringify(error), "hunter2")
      }
      const service = yield* VedAuth.VedAuth
      assert.notInclude(service.options.url, "hunter2")
      assert.deepStrictEqual(server.counts, { authorize: 0, refresh: 0, verify: 0, revoke: 0, resource: 0 })
    }).pipe(Effect.provide(layer))
  })
})
