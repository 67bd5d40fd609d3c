/**
 * The simulator under a flood (issue #12, item 8): ended grants are dropped, the number kept is
 * capped, and connections that send a request slowly, half of one, or nothing at all are closed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import * as Net from "node:net"
import * as Simulator from "../src/Simulator.js"
import { alice, call, oauth } from "./support.js"

describe("grants kept by the simulator", () => {
  it.effect("ended grants are dropped when new ones arrive; an ended token is refused as before", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make({
        integrations: [{ clientId: "vedauth-demo", tokenLifetime: "1 minute", grantLifetime: "10 minutes" }]
      })
      const first = yield* oauth(simulator, alice)
      for (let i = 0; i < 50; i++) yield* oauth(simulator, alice)
      assert.strictEqual((yield* simulator.stats).liveGrants, 51)
      yield* TestClock.adjust(Duration.minutes(11))
      yield* oauth(simulator, alice)
      assert.strictEqual((yield* simulator.stats).liveGrants, 1)
      const refresh = yield* call(simulator, "POST", "/vedauth/authorize/token", {
        body: { client_id: "vedauth-demo", refresh_token: first.json.refresh_token }
      })
      assert.deepStrictEqual([refresh.status, refresh.json.error], [400, "invalid_grant"])
    }))

  it.effect("at most maxGrants are kept: the least recently issued is dropped, the newest work", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make({ maxGrants: 100 })
      const oldest = yield* oauth(simulator, alice)
      let newest = oldest
      for (let i = 0; i < 1000; i++) newest = yield* oauth(simulator, alice)
      assert.strictEqual((yield* simulator.stats).liveGrants, 100)
      const verify = (token: string) =>
        Effect.map(call(simulator, "GET", "/vedauth/authorize/verify", { token }), (a) => a.status)
      assert.strictEqual(yield* verify(newest.json.access_token), 200)
      assert.strictEqual(yield* verify(oldest.json.access_token), 401)
    }))
})

// Opens a raw connection, sends `text`, and resolves with what the server sent back once it closed
// the connection. A server that keeps it open fails the test by its timeout, never a timed assertion.
const closedAfter = (port: number, text: string) =>
  Effect.async<string>((resume) => {
    const socket = Net.connect(port, "127.0.0.1", () => {
      if (text !== "") socket.write(text)
    })
    let received = ""
    socket.on("data", (chunk: Buffer) => void (received += chunk.toString("latin1")))
    socket.on("error", () => undefined)
    socket.on("close", () => resume(Effect.succeed(received)))
    return Effect.sync(() => socket.destroy())
  })

describe("slow and idle connections", () => {
  const limits = {
    protocol: "http",
    headersTimeout: "300 millis",
    requestTimeout: "600 millis",
    keepAliveTimeout: "300 millis"
  } as const

  it.scopedLive("a request whose headers never finish is closed", () =>
    Effect.gen(function*() {
      const served = yield* Simulator.serve(limits)
      const answer = yield* closedAfter(
        served.port,
        "POST /vedauth/authorize/token HTTP/1.1\r\nHost: x\r\nContent-Type: app"
      )
      assert.notInclude(answer, "200 OK")
    }))

  it.scopedLive("a request whose body never finishes is closed", () =>
    Effect.gen(function*() {
      const served = yield* Simulator.serve(limits)
      const answer = yield* closedAfter(
        served.port,
        "POST /vedauth/authorize/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"client"
      )
      assert.notInclude(answer, "200 OK")
    }))

  it.scopedLive("a connection that never sends a byte is closed", () =>
    Effect.gen(function*() {
      const served = yield* Simulator.serve(limits)
      // Closed, at most with a 400 for the request that never came.
      assert.notInclude(yield* closedAfter(served.port, ""), "200 ")
    }))

  it.scopedLive("an idle kept-alive connection is closed after its answer", () =>
    Effect.gen(function*() {
      const served = yield* Simulator.serve(limits)
      const answer = yield* closedAfter(served.port, "GET /vedauth/authorize/isAuthServer HTTP/1.1\r\nHost: x\r\n\r\n")
      assert.include(answer, "200 Venafi Authentication Server")
    }))
})
