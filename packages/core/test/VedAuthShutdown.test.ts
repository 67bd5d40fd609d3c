import { HttpClient } from "@effect/platform"
import { NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Duration, Effect, Exit, Fiber, Layer, Scope, TestClock } from "effect"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { FakeServer, ntlmTransportLayer } from "./fixtures/fakeVedAuth.js"
import { MemoryFiles } from "./fixtures/memoryFileSystem.js"
import { options } from "./fixtures/setup.js"

const file = "/state/vedauth/tokens.json"

describe("closing the VedAuth layer", () => {
  it.effect("interrupts a renewal in progress and releases the store's lock", () =>
    Effect.gen(function*() {
      const files = new MemoryFiles()
      const refreshStarted = yield* Deferred.make<void>()
      // The refresh reaches a server that never answers: the renewal holds the lock until stopped.
      const stalled = Layer.succeed(
        HttpClient.HttpClient,
        HttpClient.make(() => Effect.zipRight(Deferred.succeed(refreshStarted, undefined), Effect.never))
      )
      const layer = VedAuth.layer(options).pipe(
        Layer.provide(
          Layer.mergeAll(stalled, ntlmTransportLayer(new FakeServer()), TokenStore.layerFileSystem({ path: file }))
        ),
        Layer.provide(Layer.merge(files.layer(), NodePath.layer))
      )
      const scope = yield* Scope.make()
      const service = Context.get(yield* Layer.buildWithScope(layer, scope), VedAuth.VedAuth)
      yield* service.accessToken
      yield* TestClock.adjust(Duration.minutes(56))
      const caller = yield* Effect.fork(service.accessToken)
      yield* Deferred.await(refreshStarted)
      assert.isTrue(files.files.has(`${file}.lock`))
      yield* Scope.close(scope, Exit.void)
      assert.isFalse(files.files.has(`${file}.lock`), "the lock outlived the layer")
      const exit = yield* Fiber.await(caller)
      assert.isTrue(Exit.isInterrupted(exit))
    }))
})
