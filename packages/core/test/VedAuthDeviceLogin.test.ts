/**
 * `login` with the device grant on the file store, when the person's part does not end in a grant:
 * a denial, an expired code, an interruption (Ctrl-C). The attempt's mark is cleaned up in the
 * store from a finalizer, under the store's lock, and then the login must end (with the error, or
 * interrupted) and the layer must close, leaving no lock file. All on the TestClock, in memory.
 */
import { HttpClient } from "@effect/platform"
import { NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Deferred, Effect, Exit, Fiber, Layer, Option, Scope, TestClock } from "effect"
import * as Credentials from "../src/Credentials.js"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { FakeServer, ntlmTransportLayer, ok, toResponse, url } from "./fixtures/fakeVedAuth.js"
import { MemoryFiles } from "./fixtures/memoryFileSystem.js"
import { options } from "./fixtures/setup.js"

const file = "/state/vedauth/tokens.json"
const lockFile = `${file}.lock`

// What authorize/token answers every poll of the device code (RFC 8628 error codes).
type PollAnswer = "authorization_pending" | "access_denied" | "expired_token"

// authorize/device starts an attempt (a 1-second interval, a 60-second code); every poll gets `poll`.
const deviceServer = (poll: PollAnswer) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, requestUrl) =>
      Effect.sync(() => {
        const path = requestUrl.pathname.toLowerCase()
        if (path === "/vedauth/authorize/device") {
          return toResponse(
            request,
            ok({
              device_code: "device-code-c2VjcmV0==",
              user_code: "WDJB-MJHT",
              verification_uri: `${url}/vedauth/device`,
              interval: 1,
              expires_in: 60
            })
          )
        }
        if (path === "/vedauth/authorize/token") {
          return toResponse(request, { status: 400, reason: "Bad Request", body: JSON.stringify({ error: poll }) })
        }
        return toResponse(request, { status: 404, reason: "Not Found", body: "" })
      })
    )
  )

// A managed grant with the device grant on the file store (in memory), its layer in a scope of the
// test's own, and a `login` forked once the person has been shown the code.
const loginShown = (poll: PollAnswer) =>
  Effect.gen(function*() {
    const files = new MemoryFiles()
    const prompts = yield* Deferred.make<Credentials.DevicePrompt>()
    const device = Credentials.device((prompt) => Deferred.succeed(prompts, prompt))
    const layer = VedAuth.layer({ url, clientId: options.clientId, scope: options.scope, credentials: device }).pipe(
      Layer.provide(
        Layer.mergeAll(
          deviceServer(poll),
          ntlmTransportLayer(new FakeServer()),
          TokenStore.layerFileSystem({ path: file })
        )
      ),
      Layer.provide(Layer.merge(files.layer(), NodePath.layer))
    )
    const scope = yield* Scope.make()
    const service = Context.get(yield* Layer.buildWithScope(layer, scope), VedAuth.VedAuth)
    // A daemon: a login that never ends must fail the test, not keep it waiting for its child.
    const login = yield* Effect.forkDaemon(service.login)
    yield* Deferred.await(prompts)
    assert.isTrue(files.files.get(file)?.text.includes("vedauth:device-pending"), "the attempt is marked in the store")
    return { files, login, scope, service }
  })

// Whether a fiber has ended once the fibers have run as far as they can at this instant: a fiber
// still waiting here waits for ever (nothing but the TestClock could move it).
const ended = <A, E>(fiber: Fiber.Fiber<A, E>) => Effect.zipRight(TestClock.adjust("1 millis"), Fiber.poll(fiber))

// The layer closes, and takes nothing with it that another process would have to wait for.
const closes = (scope: Scope.CloseableScope, files: MemoryFiles) =>
  Effect.gen(function*() {
    const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
    assert.isTrue(Option.isSome(yield* ended(closing)), "the layer closed")
    assert.isFalse(files.files.has(lockFile), "no lock file left behind")
  })

describe("login with the device grant on the file store, without a grant at the end", () => {
  it.effect("denied: the login ends with AuthenticationFailed, the denial is left for those waiting, and the layer closes", () =>
    Effect.gen(function*() {
      const { files, login, scope, service } = yield* loginShown("access_denied")
      yield* TestClock.adjust("1 second")
      const exit = yield* ended(login)
      assert.isTrue(Option.isSome(exit), "the login ended")
      const error = yield* Effect.flip(Fiber.join(login))
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "denied")
      assert.isTrue(files.files.get(file)?.text.includes("vedauth:device-denied"), "the denial replaces the mark")
      assert.isTrue(Option.isNone(yield* service.stored), "a denial is no grant")
      yield* closes(scope, files)
    }))

  it.effect("expired: the login ends with InvalidGrant at the code's expiry, and the layer closes", () =>
    Effect.gen(function*() {
      const { files, login, scope } = yield* loginShown("authorization_pending")
      yield* TestClock.adjust("59 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(login)), "still waiting for the person")
      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isSome(yield* ended(login)), "the login ended")
      const error = yield* Effect.flip(Fiber.join(login))
      assert.strictEqual(error._tag, "InvalidGrant")
      assert.include(error.message, "expired")
      assert.isTrue(files.files.get(file)?.text.includes("vedauth:device-expired"), "the expiry replaces the mark")
      yield* closes(scope, files)
    }))

  it.effect("interrupted (Ctrl-C) while waiting: the login ends interrupted, the mark is removed, and the layer closes", () =>
    Effect.gen(function*() {
      const { files, login, scope } = yield* loginShown("authorization_pending")
      yield* TestClock.adjust("3 seconds")
      yield* Fiber.interruptFork(login)
      const exit = yield* ended(login)
      assert.isTrue(Option.exists(exit, Exit.isInterrupted), "the login ended, interrupted")
      assert.isFalse(files.files.get(file)?.text.includes("vedauth:device-") ?? false, "the mark is gone")
      yield* closes(scope, files)
    }))
})
