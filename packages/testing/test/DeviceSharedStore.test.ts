/**
 * The device flow of two managed grants sharing one token store (two layers, as two processes
 * would be): one person is asked, outside the store's lock, and the other grant waits for that
 * attempt's outcome (its grant, its denial, its expiry) instead of asking a second person; an
 * attempt whose process goes away is taken over. All on the TestClock.
 */
import { assert, describe, it } from "@effect/vitest"
import type { VedAuthError } from "@vedauth/core"
import { Credentials, TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Option, Redacted, Scope, TestClock } from "effect"
import * as Simulator from "../src/Simulator.js"

const base: VedAuth.Options = {
  url: "https://tpp.example",
  clientId: Simulator.defaultClientId,
  scope: "certificate:manage"
}
const key: TokenStore.Key = {
  server: "https://tpp.example",
  clientId: base.clientId,
  scope: base.scope,
  user: "device:"
}

type Prompts = Deferred.Deferred<Credentials.DevicePrompt>

// One simulator and one store; `grant` builds a managed grant (a layer) on them whose prompt
// goes to `prompts`, in `scope` (closing it is that process going away).
const shared = (simulator: Simulator.Options = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.build(
      Layer.mergeAll(Simulator.layerNtlmTransport, Simulator.layerHttpClient, TokenStore.layerMemory).pipe(
        Layer.provideMerge(Simulator.layer(simulator))
      )
    )
    const grant = (prompts: Prompts, scope?: Scope.Scope) =>
      Layer.build(
        VedAuth.layer({ ...base, credentials: Credentials.device((prompt) => Deferred.succeed(prompts, prompt)) })
      ).pipe(
        Effect.provide(context),
        scope === undefined ? (effect) => effect : Scope.extend(scope),
        Effect.map((built) => Context.get(built, VedAuth.VedAuth))
      )
    return {
      grant,
      simulator: Context.get(context, Simulator.Simulator),
      store: Context.get(context, TokenStore.TokenStore)
    }
  })

// Both grants ask for a token: the first is shown the prompt; the second starts once it has been.
const bothAsk = (simulator: Simulator.Options = {}) =>
  Effect.gen(function*() {
    const env = yield* shared(simulator)
    const [promptsA, promptsB] = [
      yield* Deferred.make<Credentials.DevicePrompt>(),
      yield* Deferred.make<Credentials.DevicePrompt>()
    ]
    const a = yield* env.grant(promptsA)
    const b = yield* env.grant(promptsB)
    const fiberA = yield* Effect.fork(a.accessToken)
    const prompt = yield* Deferred.await(promptsA)
    const fiberB = yield* Effect.fork(b.accessToken)
    yield* TestClock.adjust("2 seconds")
    return { ...env, b, prompt, promptsB, fiberA, fiberB }
  })

const failure = (fiber: Fiber.RuntimeFiber<Redacted.Redacted<string>, VedAuthError.VedAuthError>) =>
  Effect.flip(Fiber.join(fiber))

describe("the device flow with two managed grants on one store", () => {
  it.scoped("one prompt, the lock free while the person approves, and the same token for both after approval", () =>
    Effect.gen(function*() {
      const { b, fiberA, fiberB, prompt, promptsB, simulator, store } = yield* bothAsk()
      // The mark is in the store, but it is no grant to anyone.
      assert.isTrue(Option.isSome(yield* store.get(key)))
      assert.isTrue(Option.isNone(yield* b.stored))
      // Another process can take the store's lock while the person has not answered yet.
      const locked = yield* Effect.fork(store.withLock(key, Effect.void))
      yield* TestClock.adjust("1 millis")
      assert.isTrue(Option.isSome(yield* Fiber.poll(locked)))
      assert.isTrue(yield* simulator.approveDevice(prompt.userCode))
      yield* TestClock.adjust("5 seconds")
      const [tokenA, tokenB] = [yield* Fiber.join(fiberA), yield* Fiber.join(fiberB)]
      assert.strictEqual(Redacted.value(tokenA), Redacted.value(tokenB))
      assert.isFalse(yield* Deferred.isDone(promptsB))
      assert.strictEqual((yield* simulator.stats).authorizeDevice, 1)
      const stored = yield* store.get(key)
      assert.isTrue(Option.exists(stored, (grant) => Redacted.value(grant.accessToken) === Redacted.value(tokenA)))
    }))

  it.scoped("a denial reaches both: AuthenticationFailed, no second prompt", () =>
    Effect.gen(function*() {
      const { fiberA, fiberB, prompt, promptsB, simulator } = yield* bothAsk()
      assert.isTrue(yield* simulator.denyDevice(prompt.userCode))
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual((yield* failure(fiberA))._tag, "AuthenticationFailed")
      const other = yield* failure(fiberB)
      assert.strictEqual(other._tag, "AuthenticationFailed")
      assert.include(other.message, "another process")
      assert.isFalse(yield* Deferred.isDone(promptsB))
      assert.strictEqual((yield* simulator.stats).authorizeDevice, 1)
    }))

  it.scoped("an expired code reaches both: InvalidGrant, no second prompt", () =>
    Effect.gen(function*() {
      const { fiberA, fiberB, promptsB, simulator } = yield* bothAsk({ device: { expiresIn: 60 } })
      yield* TestClock.adjust("61 seconds")
      assert.strictEqual((yield* failure(fiberA))._tag, "InvalidGrant")
      assert.strictEqual((yield* failure(fiberB))._tag, "InvalidGrant")
      assert.isFalse(yield* Deferred.isDone(promptsB))
      assert.strictEqual((yield* simulator.stats).authorizeDevice, 1)
    }))

  it.scoped("the first process goes away mid-approval: its mark is removed, the other takes over and asks", () =>
    Effect.gen(function*() {
      const env = yield* shared()
      const [promptsA, promptsB] = [
        yield* Deferred.make<Credentials.DevicePrompt>(),
        yield* Deferred.make<Credentials.DevicePrompt>()
      ]
      const scopeA = yield* Scope.make()
      const a = yield* env.grant(promptsA, scopeA)
      const b = yield* env.grant(promptsB)
      yield* Effect.fork(a.accessToken)
      yield* Deferred.await(promptsA)
      const fiberB = yield* Effect.fork(b.accessToken)
      yield* TestClock.adjust("2 seconds")
      assert.isFalse(yield* Deferred.isDone(promptsB))
      yield* Scope.close(scopeA, Exit.void)
      assert.isTrue(Option.isNone(yield* env.store.get(key)))
      yield* TestClock.adjust("1 second")
      const prompt = yield* Deferred.await(promptsB)
      assert.isTrue(yield* env.simulator.approveDevice(prompt.userCode))
      yield* TestClock.adjust("5 seconds")
      const token = yield* Fiber.join(fiberB)
      assert.isTrue(
        Option.exists(yield* env.store.get(key), (grant) => Redacted.value(grant.accessToken) === Redacted.value(token))
      )
      assert.strictEqual((yield* env.simulator.stats).authorizeDevice, 2)
    }))

  it.scoped("a process that finds a stale mark (its device code long expired) asks at once", () =>
    Effect.gen(function*() {
      const env = yield* shared({ device: { expiresIn: 60 } })
      const [promptsA, promptsB] = [
        yield* Deferred.make<Credentials.DevicePrompt>(),
        yield* Deferred.make<Credentials.DevicePrompt>()
      ]
      const scopeA = yield* Scope.make()
      const a = yield* env.grant(promptsA, scopeA)
      yield* Effect.fork(a.accessToken)
      yield* Deferred.await(promptsA)
      // The process stops without running its finalizers (killed): the pending mark stays behind.
      const marked = yield* env.store.get(key)
      yield* Scope.close(scopeA, Exit.void)
      yield* env.store.set(key, Option.getOrThrow(marked))
      yield* TestClock.adjust("71 seconds")
      const b = yield* env.grant(promptsB)
      yield* Effect.fork(b.accessToken)
      yield* TestClock.adjust("1 millis")
      assert.isTrue(yield* Deferred.isDone(promptsB))
    }))
})
