/**
 * Interop: NodeNtlmTransport against an independent NTLM server written on impacket
 * (test/interop/ntlm_server.py), started on 127.0.0.1 for each case.
 */
import { assert, describe, it, vi } from "@effect/vitest"
import { NtlmTransport } from "@vedauth/core/NtlmTransport"
import type * as NtlmTransportModule from "@vedauth/core/NtlmTransport"
import { Effect, Redacted } from "effect"
import * as Https from "node:https"
import type * as Tls from "node:tls"
import * as NodeNtlmTransport from "../src/NodeNtlmTransport.js"
import { makeCertificate, startServer } from "./interop/server.js"

const PASSWORD = "Tr0ub4dor&3-secret"
const USERS = ["--user", `CORP\\alice:${PASSWORD}`, "--user", `CORP\\jürgen:${PASSWORD}`]
const PATH = "/vedauth/authorize/integrated"

const authorizeOn = (transport: NtlmTransportModule.Service, url: string, user: string, password = PASSWORD) =>
  Effect.map(
    transport.request({
      method: "POST",
      url: url + PATH,
      headers: { "content-type": "application/json" },
      body: new TextEncoder().encode(JSON.stringify({ client_id: "vedauth-test", scope: "certificate:manage" })),
      credentials: { domain: "CORP", username: user, password: Redacted.make(password) }
    }),
    (response) => ({ response, json: JSON.parse(new TextDecoder().decode(response.body)) as Record<string, unknown> })
  )

const authorize = (url: string, user: string, password = PASSWORD, options: NodeNtlmTransport.Options = {}) =>
  Effect.gen(function*() {
    const stats: Array<NodeNtlmTransport.Stats> = []
    const transport = yield* NodeNtlmTransport.make({ ...options, onHandshake: (s) => stats.push(s) })
    return { ...yield* authorizeOn(transport, url, user, password), stats }
  })

// The TLS context each new connection of any https agent was opened with, in order.
const connectionContexts = Effect.acquireRelease(
  Effect.sync(() => vi.spyOn(Https.Agent.prototype, "createConnection")),
  (spy) => Effect.sync(() => spy.mockRestore())
).pipe(Effect.map((spy) => () => spy.mock.calls.map(([options]) => (options as Tls.ConnectionOptions).secureContext)))

const noSecret = (error: unknown) => {
  for (const text of [String(error), JSON.stringify(error), (error as Error).message]) {
    assert.isFalse(text.includes(PASSWORD), "the password leaked into the error")
  }
}

describe("NodeNtlmTransport against impacket", () => {
  it.live("HTTP: authorizes in 2 round trips on 1 socket, NEGOTIATE without a body", () =>
    Effect.gen(function*() {
      const server = yield* startServer([...USERS, "--require-mic"])
      const { json, response, stats } = yield* authorize(server.url, "alice")
      assert.strictEqual(response.status, 200)
      assert.strictEqual(json.identity, "CORP\\alice")
      assert.strictEqual(json.scope, "certificate:manage")
      assert.deepStrictEqual(stats.map((s) => [s.roundTrips, s.sockets, s.scheme]), [[2, 1, "NTLM"]])
      const [handshake] = yield* server.eventsNamed("handshake", 1)
      assert.strictEqual(handshake!.result, "ok")
      assert.strictEqual(handshake!.requests, 2)
      assert.strictEqual(handshake!.negotiate_body_length, 0)
    }).pipe(Effect.scoped))

  it.live("a non-ASCII user name (CORP\\jürgen) authenticates", () =>
    Effect.gen(function*() {
      const server = yield* startServer([...USERS, "--require-mic"])
      const { json } = yield* authorize(server.url, "jürgen")
      assert.strictEqual(json.identity, "CORP\\jürgen")
    }).pipe(Effect.scoped))

  it.live("HTTPS with channel bindings and MIC required, trusting the server's CA", () =>
    Effect.gen(function*() {
      const cert = yield* makeCertificate
      const server = yield* startServer([
        ...USERS,
        "--cert",
        cert.cert,
        "--key",
        cert.key,
        "--require-cb",
        "--require-mic"
      ])
      const { json, stats } = yield* authorize(server.url, "alice", PASSWORD, { ca: cert.pem })
      assert.strictEqual(json.identity, "CORP\\alice")
      assert.deepStrictEqual(stats.map((s) => [s.roundTrips, s.sockets]), [[2, 1]])
      const fromFile = yield* authorize(server.url, "alice", PASSWORD, { caFile: cert.cert })
      assert.strictEqual(fromFile.json.identity, "CORP\\alice")
    }).pipe(Effect.scoped))

  it.live("HTTPS verifies the certificate by default: an unknown CA is a TransportError", () =>
    Effect.gen(function*() {
      const cert = yield* makeCertificate
      const server = yield* startServer([...USERS, "--cert", cert.cert, "--key", cert.key])
      const error = yield* Effect.flip(authorize(server.url, "alice"))
      assert.strictEqual(error._tag, "TransportError")
    }).pipe(Effect.scoped))

  it.live("HTTPS: every handshake of a transport connects on its one secure context; a CA that is not the server's is refused", () =>
    Effect.gen(function*() {
      const cert = yield* makeCertificate
      const stranger = yield* makeCertificate
      const server = yield* startServer([
        ...USERS,
        "--cert",
        cert.cert,
        "--key",
        cert.key,
        "--require-cb",
        "--require-mic"
      ])
      const contexts = yield* connectionContexts
      const transport = yield* NodeNtlmTransport.make({ ca: cert.pem })
      for (let i = 0; i < 3; i++) {
        assert.strictEqual((yield* authorizeOn(transport, server.url, "alice")).json.identity, "CORP\\alice")
      }
      const [first, ...rest] = contexts()
      assert.isDefined(first)
      assert.deepStrictEqual(rest, [first, first], "three handshakes, three connections, one context")
      // The extra CA is added to the roots, not trusted in place of the server's: still verified.
      const refused = yield* Effect.flip(authorize(server.url, "alice", PASSWORD, { ca: stranger.pem }))
      assert.strictEqual(refused._tag, "TransportError")
      assert.match(refused.message, /self[- ]signed certificate/)
      assert.notStrictEqual(contexts().at(-1), first, "another transport, its own context")
      const handshakes = yield* server.eventsNamed("handshake", 3)
      assert.strictEqual(handshakes.length, 3, "the refused connection never reached NTLM")
    }).pipe(Effect.scoped))

  it.live("a Negotiate-only server gets raw NTLMSSP under Negotiate (3 round trips once, then 2)", () =>
    Effect.gen(function*() {
      const server = yield* startServer([...USERS, "--negotiate-only", "--require-mic"])
      const stats: Array<NodeNtlmTransport.Stats> = []
      const transport = yield* NodeNtlmTransport.make({ onHandshake: (s) => stats.push(s) })
      const request = {
        method: "POST" as const,
        url: server.url + PATH,
        headers: {},
        body: new TextEncoder().encode("{}"),
        credentials: { domain: "CORP", username: "alice", password: Redacted.make(PASSWORD) }
      }
      const first = yield* transport.request(request)
      const second = yield* transport.request(request)
      assert.deepStrictEqual([first.status, second.status], [200, 200])
      assert.deepStrictEqual(stats.map((s) => [s.roundTrips, s.sockets, s.scheme]), [[3, 1, "Negotiate"], [
        2,
        1,
        "Negotiate"
      ]])
    }).pipe(Effect.scoped))

  it.live("a wrong password is AuthenticationFailed with the user and without the password", () =>
    Effect.gen(function*() {
      const server = yield* startServer(USERS)
      const error = yield* Effect.flip(authorize(server.url, "alice", "wrong-" + PASSWORD))
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "CORP\\alice")
      assert.strictEqual(error._tag === "AuthenticationFailed" && error.user, "CORP\\alice")
      noSecret(error)
      assert.isFalse(String(error).includes("wrong-"))
      assert.strictEqual((yield* server.eventsNamed("handshake", 1))[0]?.result, "bad-proof")
    }).pipe(Effect.scoped))

  it.live("an NTLMv1-only server is a clear NtlmProtocolError (no downgrade)", () =>
    Effect.gen(function*() {
      const server = yield* startServer([...USERS, "--v1-only"])
      const error = yield* Effect.flip(authorize(server.url, "alice"))
      assert.strictEqual(error._tag, "NtlmProtocolError")
      assert.include(error.message, "NTLMv1")
      noSecret(error)
    }).pipe(Effect.scoped))

  it.live("malformed challenges are NtlmProtocolErrors, not hangs", () =>
    Effect.gen(function*() {
      for (const kind of ["offset", "garbage", "short"]) {
        const server = yield* startServer([...USERS, "--malformed", kind])
        const error = yield* Effect.flip(authorize(server.url, "alice", PASSWORD, { responseTimeout: "5 seconds" }))
        assert.strictEqual(error._tag, "NtlmProtocolError", kind)
      }
    }).pipe(Effect.scoped))

  it.live("a server that closes the connection after its CHALLENGE is a clear NtlmProtocolError", () =>
    Effect.gen(function*() {
      const server = yield* startServer([...USERS, "--close-after-challenge"])
      const error = yield* Effect.flip(authorize(server.url, "alice"))
      assert.strictEqual(error._tag, "NtlmProtocolError")
      assert.include(error.message, "closed the connection")
      assert.isUndefined(server.events.find((e) => e.event === "handshake"), "no AUTHENTICATE was sent")
    }).pipe(Effect.scoped))

  it.live("concurrent authorizations each run on their own connection", () =>
    Effect.gen(function*() {
      const server = yield* startServer([...USERS, "--require-mic"])
      const results = yield* Effect.all(Array.from({ length: 6 }, () => authorize(server.url, "alice")), {
        concurrency: "unbounded"
      })
      assert.isTrue(results.every((r) => r.response.status === 200))
      const handshakes = yield* server.eventsNamed("handshake", 6)
      assert.strictEqual(handshakes.length, 6)
      assert.strictEqual(new Set(handshakes.map((h) => h.connection)).size, 6)
      assert.isTrue(handshakes.every((h) => h.requests === 2))
    }).pipe(Effect.scoped))

  it.live("the layer provides NtlmTransport", () =>
    Effect.gen(function*() {
      const server = yield* startServer(USERS)
      const transport = yield* NtlmTransport
      const response = yield* transport.request({
        method: "GET",
        url: server.url + "/vedauth/authorize/integrated",
        headers: {},
        credentials: { domain: "CORP", username: "alice", password: Redacted.make(PASSWORD) }
      })
      // The impacket server only routes POST: an authenticated GET gets its 404 (not a 401).
      assert.notStrictEqual(response.status, 401)
    }).pipe(Effect.scoped, Effect.provide(NodeNtlmTransport.layer())))
})
