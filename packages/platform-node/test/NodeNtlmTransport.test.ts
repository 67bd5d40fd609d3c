import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Fiber, Option, Redacted, TestClock } from "effect"
import * as Net from "node:net"
import * as NodeNtlmTransport from "../src/NodeNtlmTransport.js"

/** A loopback server that accepts connections and never answers. */
const silentServer = (onConnection: () => void) =>
  Effect.acquireRelease(
    Effect.async<Net.Server>((resume) => {
      const sockets: Array<Net.Socket> = []
      const server = Net.createServer((socket) => {
        sockets.push(socket)
        onConnection()
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      server.on("close", () => sockets.forEach((s) => s.destroy()))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        server.emit("close")
      })
  )

/** A POST to a silent server, with the transport's 30-second response timeout; returns its fiber once connected. */
const requestToSilentServer = (timeout?: Duration.Duration) =>
  Effect.gen(function*() {
    const connected = yield* Deferred.make<void>()
    const server = yield* silentServer(() => Deferred.unsafeDone(connected, Effect.void))
    const { port } = server.address() as Net.AddressInfo
    const transport = yield* NodeNtlmTransport.make({ responseTimeout: "30 seconds" })
    const fiber = yield* Effect.fork(transport.request({
      method: "POST",
      url: `http://127.0.0.1:${port}/vedauth/authorize/integrated`,
      headers: {},
      body: new Uint8Array(0),
      credentials: { domain: "", username: "u", password: Redacted.make("p") },
      ...(timeout === undefined ? {} : { timeout })
    }))
    yield* Deferred.await(connected)
    return { fiber, transport }
  })

describe("NodeNtlmTransport", () => {
  it.scoped("a server that never answers is a TransportError after the response timeout (TestClock)", () =>
    Effect.gen(function*() {
      const { fiber } = yield* requestToSilentServer()
      yield* TestClock.adjust("30 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "no response within")
    }))

  it.scoped("enforces the request's own timeout when it is shorter (so VedAuth need not race a fiber against it)", () =>
    Effect.gen(function*() {
      const { fiber, transport } = yield* requestToSilentServer(Duration.seconds(2))
      assert.isTrue(transport.enforcesTimeout)
      yield* TestClock.adjust("1999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "no answer within 2s")
    }))

  it.effect("a refused connection is a TransportError", () =>
    Effect.gen(function*() {
      const transport = yield* NodeNtlmTransport.make()
      const error = yield* Effect.flip(transport.request({
        method: "GET",
        url: "http://127.0.0.1:1/",
        headers: {},
        credentials: { domain: "", username: "u", password: Redacted.make("p") }
      }))
      assert.strictEqual(error._tag, "TransportError")
    }))
})
