import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import { NtlmTransport } from "../src/NtlmTransport.js"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { TransportError } from "../src/VedAuthError.js"
import { FakeServer, ntlmTransportLayer, url } from "./fixtures/fakeVedAuth.js"
import { environment, options } from "./fixtures/setup.js"

// A server that accepts the connection and never answers.
const stalled = Layer.succeed(HttpClient.HttpClient, HttpClient.make(() => Effect.never))
const stalledTransport = Layer.succeed(NtlmTransport, { request: () => Effect.never })

describe("VedAuth request timeout", () => {
  it.effect("a stalled server fails the call with TransportError after 30 seconds, not never", () => {
    const layer = VedAuth.layer(options).pipe(
      Layer.provide(Layer.mergeAll(stalled, ntlmTransportLayer(new FakeServer()), TokenStore.layerMemory))
    )
    return Effect.gen(function*() {
      const fiber = yield* Effect.fork(VedAuth.verify(Redacted.make("t==")))
      yield* TestClock.adjust(Duration.seconds(29))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(Duration.seconds(1))
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "no answer within 30s")
      assert.include(error.message, `${url}/vedauth/authorize/verify`)
    }).pipe(Effect.provide(layer))
  })

  it.effect("authorize is bounded too, and the lock it held is free again", () => {
    const layer = VedAuth.layer({ ...options, requestTimeout: Duration.seconds(2) }).pipe(
      Layer.provide(Layer.mergeAll(stalled, stalledTransport, TokenStore.layerMemory))
    )
    return Effect.gen(function*() {
      const first = yield* Effect.fork(VedAuth.accessToken)
      yield* TestClock.adjust(Duration.seconds(2))
      assert.include((yield* Effect.flip(Fiber.join(first))).message, "no answer within 2s")
      const second = yield* Effect.fork(VedAuth.login)
      yield* TestClock.adjust(Duration.seconds(2))
      assert.strictEqual((yield* Effect.flip(Fiber.join(second)))._tag, "TransportError")
    }).pipe(Effect.provide(layer))
  })

  it.effect("authorize sends its timeout with the request, for a transport that enforces it itself", () => {
    const seen: Array<Duration.Duration | undefined> = []
    const enforcing = Layer.succeed(NtlmTransport, {
      request: (request) => {
        seen.push(request.timeout)
        return Effect.fail(new TransportError({ detail: "no answer within 2s (the transport's own)" }))
      },
      enforcesTimeout: true
    })
    const layer = VedAuth.layer({ ...options, requestTimeout: Duration.seconds(2) }).pipe(
      Layer.provide(Layer.mergeAll(stalled, enforcing, TokenStore.layerMemory))
    )
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.include(error.message, "the transport's own")
      assert.deepStrictEqual(seen, [Duration.seconds(2)])
    }).pipe(Effect.provide(layer))
  })

  it.effect("VEDAUTH_REQUEST_TIMEOUT sets it from the environment", () => {
    const layer = VedAuth.layerConfig().pipe(
      Layer.provide(Layer.mergeAll(stalled, stalledTransport, TokenStore.layerMemory)),
      Layer.provide(environment({ VEDAUTH_REQUEST_TIMEOUT: "5 seconds" }))
    )
    return Effect.gen(function*() {
      const service = yield* VedAuth.VedAuth
      assert.deepStrictEqual(service.options.requestTimeout, Duration.seconds(5))
      const fiber = yield* Effect.fork(VedAuth.isAuthServer)
      yield* TestClock.adjust(Duration.seconds(5))
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.include(error.message, "no answer within 5s")
    }).pipe(Effect.provide(layer))
  })
})
