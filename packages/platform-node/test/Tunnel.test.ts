/**
 * The CONNECT tunnel against scripted proxies on loopback: what it sends, and every way a proxy's
 * answer can fail (bounded size, not HTTP, a refusal, 407, silence, a closed connection).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Net from "node:net"
import { parseProxy } from "../src/internal/proxy.js"
import { MAX_ANSWER_BYTES, openTunnel } from "../src/internal/tunnel.js"

/** A proxy on loopback that records what it is sent and answers with `answer` once the request's head is in. */
const scriptedProxy = (answer: (received: string, socket: Net.Socket) => void) => {
  const sockets = new Set<Net.Socket>()
  return Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly received: () => string; readonly server: Net.Server }>((resume) => {
      let received = ""
      const server = Net.createServer((socket) => {
        sockets.add(socket)
        socket.on("data", (chunk) => {
          const before = received.includes("\r\n\r\n")
          received += chunk.toString("latin1")
          if (!before && received.includes("\r\n\r\n")) answer(received, socket)
        })
        socket.on("error", () => {})
      })
      server.listen(
        0,
        "127.0.0.1",
        () =>
          resume(Effect.succeed({ port: (server.address() as Net.AddressInfo).port, received: () => received, server }))
      )
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        for (const socket of sockets) socket.destroy()
      })
  )
}

const tunnel = (proxyUrl: string, host: string, port: number, timeoutMs = 5000) =>
  Effect.async<Net.Socket, Error>((resume) => {
    openTunnel(
      parseProxy(proxyUrl, "test"),
      host,
      port,
      timeoutMs,
      (error, socket) => resume(error === null ? Effect.succeed(socket!) : Effect.fail(error))
    )
  })

const failure = (answer: (received: string, socket: Net.Socket) => void, proxyUser = "", timeoutMs?: number) =>
  Effect.gen(function*() {
    const proxy = yield* scriptedProxy(answer)
    const error = yield* Effect.flip(tunnel(`http://${proxyUser}127.0.0.1:${proxy.port}`, "tpp.corp", 443, timeoutMs))
    return { message: error.message, port: proxy.port }
  })

describe("CONNECT tunnel", () => {
  it.scoped("sends CONNECT host:port (IPv6 bracketed) with Basic Proxy-Authorization, and hands over the socket after the answer", () =>
    Effect.gen(function*() {
      const proxy = yield* scriptedProxy((_, socket) => {
        socket.write("HTTP/1.1 200 Connection established\r\n\r\n")
        // What comes through the tunnel afterwards is the far end's.
        socket.once("data", (chunk) => socket.write(`echo ${chunk}`))
      })
      const socket = yield* tunnel(`http://u%20ser:pa%3Ass@127.0.0.1:${proxy.port}`, "::1", 8443)
      const first = yield* Effect.async<string>((resume) => {
        socket.once("data", (chunk) => resume(Effect.succeed(String(chunk))))
        socket.write("hello")
      })
      socket.destroy()
      assert.strictEqual(first, "echo hello")
      const basic = Buffer.from("u ser:pa:ss").toString("base64")
      assert.strictEqual(
        proxy.received(),
        `CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\nProxy-Authorization: Basic ${basic}\r\n\r\nhello`
      )
    }))

  it.scoped("a refusal names the proxy, the target and the status; a 407 says proxy authentication required", () =>
    Effect.gen(function*() {
      const refused = yield* failure((_, socket) => socket.end("HTTP/1.1 403 Forbidden\r\n\r\n"))
      assert.strictEqual(
        refused.message,
        `the proxy 127.0.0.1:${refused.port} refused the tunnel to tpp.corp:443: 403 Forbidden`
      )
      const anonymous = yield* failure((_, socket) =>
        socket.end(
          "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n"
        )
      )
      assert.include(
        anonymous.message,
        `proxy authentication required by the proxy 127.0.0.1:${anonymous.port} (it offers Negotiate, Basic)`
      )
      const wrong = yield* failure((_, socket) => socket.end("HTTP/1.1 407 No\r\n\r\n"), "user:s3cret@")
      assert.include(wrong.message, "refused the user and password")
      assert.notInclude(wrong.message, "s3cret")
    }))

  it.scoped("an answer that is not HTTP, headers past the bound, a closed connection, silence: each its own error", () =>
    Effect.gen(function*() {
      assert.include(
        (yield* failure((_, socket) => socket.end("SSH-2.0-x\r\n\r\n"))).message,
        "did not answer CONNECT with HTTP"
      )
      const huge = yield* failure((_, socket) =>
        socket.write(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(MAX_ANSWER_BYTES + 10)}`)
      )
      assert.include(huge.message, `more than ${MAX_ANSWER_BYTES} bytes of headers`)
      assert.include(
        (yield* failure((_, socket) => socket.end())).message,
        "closed the connection before opening the tunnel to tpp.corp:443"
      )
      const early = yield* failure((_, socket) => socket.write("HTTP/1.1 200 OK\r\n\r\nunasked"))
      assert.include(early.message, "sent data into the tunnel before it was used")
      assert.include((yield* failure(() => {}, "", 100)).message, "no tunnel through the proxy")
    }))

  it.scoped("a proxy that is not there", () =>
    Effect.gen(function*() {
      const port = yield* Effect.map(scriptedProxy(() => {}), (proxy) => proxy.port)
      const closed = yield* Effect.async<number>((resume) => {
        const server = Net.createServer()
        server.listen(0, "127.0.0.1", () => {
          const free = (server.address() as Net.AddressInfo).port
          server.close(() => resume(Effect.succeed(free)))
        })
      })
      assert.notStrictEqual(closed, port)
      const error = yield* Effect.flip(tunnel(`http://127.0.0.1:${closed}`, "tpp.corp", 443))
      assert.include(error.message, `cannot reach the proxy 127.0.0.1:${closed}`)
    }))
})
