/**
 * A proxy's 407 answered with Negotiate, against scripted proxies on loopback and a stand-in for the
 * Kerberos side: one more CONNECT with the token, on the same connection when the proxy keeps it
 * (its refusal's body read), else on a new one; a second 407 is the error; the token goes first
 * once the proxy has asked for it; a token that cannot be had is the 407 error saying why.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Net from "node:net"
import { parseProxy } from "../src/internal/proxy.js"
import { openTunnel, type ProxyNegotiate, ProxyRefused } from "../src/internal/tunnel.js"

interface Received {
  readonly connection: number
  readonly head: string
}

/** A proxy answering each CONNECT head with `answer(index, head)`; it records which connection carried each. */
const scriptedProxy = (answer: (index: number, head: string) => string) => {
  const sockets = new Set<Net.Socket>()
  const received: Array<Received> = []
  return Effect.acquireRelease(
    Effect.async<{ readonly port: number; readonly received: ReadonlyArray<Received>; readonly server: Net.Server }>(
      (resume) => {
        let connections = 0
        const server = Net.createServer((socket) => {
          const connection = connections++
          sockets.add(socket)
          let buffer = ""
          socket.on("data", (chunk) => {
            buffer += chunk.toString("latin1")
            for (let end = buffer.indexOf("\r\n\r\n"); end >= 0; end = buffer.indexOf("\r\n\r\n")) {
              const head = buffer.slice(0, end)
              buffer = buffer.slice(end + 4)
              received.push({ connection, head })
              const reply = answer(received.length - 1, head)
              if (reply.includes("Connection: close")) socket.end(reply)
              else socket.write(reply)
            }
          })
          socket.on("error", () => {})
        })
        server.listen(
          0,
          "127.0.0.1",
          () => resume(Effect.succeed({ port: (server.address() as Net.AddressInfo).port, received, server }))
        )
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        for (const socket of sockets) socket.destroy()
      })
  )
}

const body = "<html>denied</html>"
const challenge = (close: boolean) =>
  `HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nContent-Length: ${body.length}\r\n${
    close ? "Connection: close\r\n" : ""
  }\r\n${body}`
const established = "HTTP/1.1 200 Connection established\r\n\r\n"

/** A stand-in for the Kerberos side: numbered tokens, or a refusal. */
const fakeNegotiate = (refuse?: string) => {
  const wanted = new Set<string>()
  let tokens = 0
  const negotiate: ProxyNegotiate = {
    wanted: (proxy) => wanted.has(proxy.shown),
    authorization: (proxy, _signal) => {
      wanted.add(proxy.shown)
      if (refuse !== undefined) return Promise.reject(new ProxyRefused(refuse, 407))
      tokens++
      return Promise.resolve({
        header: Redacted.make(`Negotiate dG9rZW4${tokens}`),
        client: "alice@CORP.EXAMPLE",
        spn: "HTTP/localhost"
      })
    }
  }
  return { negotiate, tokens: () => tokens }
}

const tunnel = (port: number, negotiate: ProxyNegotiate, timeoutMs = 5000) =>
  Effect.async<Net.Socket, Error>((resume) => {
    openTunnel(
      parseProxy(`http://localhost:${port}`, "test"),
      "tpp.corp",
      443,
      timeoutMs,
      (error, socket) => resume(error === null ? Effect.succeed(socket!) : Effect.fail(error)),
      negotiate
    )
  })

const authorization = (head: string) => /^Proxy-Authorization: (.*)$/m.exec(head)?.[1]

describe("CONNECT tunnel with Negotiate to the proxy", () => {
  it.scoped("a 407 kept open: the token goes on the same connection; the next tunnel sends it at once", () =>
    Effect.gen(function*() {
      const proxy = yield* scriptedProxy((index) => index === 0 ? challenge(false) : established)
      const { negotiate, tokens } = fakeNegotiate()
      const first = yield* tunnel(proxy.port, negotiate)
      first.destroy()
      const second = yield* tunnel(proxy.port, negotiate)
      second.destroy()
      assert.deepStrictEqual(proxy.received.map((r) => [r.connection, authorization(r.head)]), [
        [0, undefined],
        [0, "Negotiate dG9rZW41"],
        [1, "Negotiate dG9rZW42"]
      ])
      // A fresh token for each CONNECT: a proxy's replay cache refuses one sent twice.
      assert.strictEqual(tokens(), 2)
    }))

  it.scoped("a 407 that closes its connection: the token goes on a new one", () =>
    Effect.gen(function*() {
      const proxy = yield* scriptedProxy((index) => index === 0 ? challenge(true) : established)
      ;(yield* tunnel(proxy.port, fakeNegotiate().negotiate)).destroy()
      assert.deepStrictEqual(proxy.received.map((r) => [r.connection, authorization(r.head)]), [[0, undefined], [
        1,
        "Negotiate dG9rZW41"
      ]])
    }))

  it.scoped("a second 407 is the error, naming the ticket, never the token; no third CONNECT", () =>
    Effect.gen(function*() {
      const proxy = yield* scriptedProxy(() => challenge(false))
      const error = yield* Effect.flip(tunnel(proxy.port, fakeNegotiate().negotiate))
      assert.strictEqual(
        error.message,
        `proxy authentication required by the proxy localhost:${proxy.port} (it offers Negotiate): the proxy refused the Kerberos ticket of alice@CORP.EXAMPLE for HTTP/localhost`
      )
      assert.strictEqual((error as ProxyRefused).status, 407)
      assert.strictEqual(proxy.received.length, 2)
    }))

  it.scoped("no token to be had: the 407 error says why, and nothing more is sent", () =>
    Effect.gen(function*() {
      const proxy = yield* scriptedProxy(() => challenge(false))
      const error = yield* Effect.flip(
        tunnel(proxy.port, fakeNegotiate("no Kerberos ticket for it: NO_CREDENTIALS").negotiate)
      )
      assert.strictEqual(error.message, "no Kerberos ticket for it: NO_CREDENTIALS")
      assert.strictEqual(proxy.received.length, 1)
    }))

  it.scoped("a proxy offering Basic only is not sent a Kerberos token", () =>
    Effect.gen(function*() {
      const proxy = yield* scriptedProxy(() =>
        "HTTP/1.1 407 No\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n"
      )
      const { negotiate, tokens } = fakeNegotiate()
      const error = yield* Effect.flip(tunnel(proxy.port, negotiate))
      assert.include(error.message, "(it offers Basic); give the user and password")
      assert.strictEqual(tokens(), 0)
      assert.strictEqual(proxy.received.length, 1)
    }))

  it.scoped("a ticket that takes longer than the tunnel may: the connect timeout's error, and the Kerberos work is told to stop", () =>
    Effect.gen(function*() {
      const proxy = yield* scriptedProxy(() => challenge(false))
      let aborted = false
      const slow: ProxyNegotiate = {
        wanted: () => false,
        authorization: (_proxy, signal) =>
          new Promise((_, reject) =>
            signal.addEventListener("abort", () => {
              aborted = true
              reject(new Error("aborted"))
            })
          )
      }
      const error = yield* Effect.flip(tunnel(proxy.port, slow, 100))
      assert.strictEqual(error.message, `no tunnel through the proxy localhost:${proxy.port} within 100 ms`)
      assert.isTrue(aborted)
      assert.strictEqual(proxy.received.length, 1)
    }))
})
