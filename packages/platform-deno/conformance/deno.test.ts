/**
 * The conformance suite under `deno test` (scripts/test-deno.mjs gives the flags), on
 * `DenoVedAuth.layer`: Deno's node:http(s) for NTLM and, by default, for the plain calls; the
 * Node-compatible file system for the token store. The cases that need no TLS run a second time
 * with `httpClient: "fetch"` (Deno's fetch), and fetch over HTTPS is proven against the simulator's
 * CA-issued leaf certificate, trusted through the CA and refused without it.
 */
import * as VedAuth from "@vedauth/core/VedAuth"
import * as Simulator from "@vedauth/testing/Simulator"
import { Effect, Either, Redacted } from "effect"
import * as assert from "node:assert/strict"
import { DenoVedAuth } from "../src/index.js"
import { cases, httpCases, runCase } from "./cases.js"
import type { Platform } from "./Platform.js"
import { testProxy } from "./proxy.js"

interface DenoTest {
  readonly test: (name: string, fn: () => Promise<void>) => void
}

const deno = (globalThis as unknown as { readonly Deno: DenoTest }).Deno

const platform = (httpClient: "node" | "fetch"): Platform => ({
  runtime: `deno (${httpClient} HTTP client)`,
  layer: ({ ca, onHandshake, proxy, tokenStorePath, ...options }) =>
    DenoVedAuth.layer({
      ...options,
      httpClient,
      tokenStorePath,
      transport: { onHandshake, ...(ca === undefined ? {} : { ca }), ...(proxy === undefined ? {} : { proxy }) }
    })
})

for (const testCase of cases) {
  deno.test(testCase.name, () => runCase(platform("node"), testCase))
}
for (const testCase of httpCases) {
  deno.test(`fetch HTTP client: ${testCase.name}`, () => runCase(platform("fetch"), testCase))
}

/** DenoVedAuth with the fetch HTTP client against a served simulator, as alice, storing nothing. */
const fetchLayer = (served: Simulator.Served, transport: DenoVedAuth.Options["transport"]) =>
  DenoVedAuth.layer({
    url: served.url,
    clientId: Simulator.defaultClientId,
    scope: "certificate:manage",
    username: "CORP\\alice",
    password: Redacted.make("Passw0rd!"),
    httpClient: "fetch",
    tokenStorePath: "/nonexistent/never-written.json",
    ...(transport === undefined ? {} : { transport })
  })

deno.test(
  "fetch HTTP client over HTTPS: trusting the simulator's CA, authorize (channel bindings required) then verify; without the CA, TransportError",
  () =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      // The simulator presents a leaf issued by its throwaway CA, as a TPP behind an enterprise CA
      // does; rustls refuses a self-signed CA certificate as the server's (CaUsedAsEndEntity).
      const served = yield* Simulator.serve({ protocol: "https", channelBindings: "required" })
      const layer = (ca: string | undefined) => fetchLayer(served, ca === undefined ? {} : { ca })
      assert.ok(served.caPem !== undefined, "an HTTPS simulator gives its CA")
      const { grant, info } = yield* Effect.gen(function*() {
        assert.equal(yield* VedAuth.isAuthServer, true)
        const grant = yield* VedAuth.authorize()
        const info = yield* VedAuth.verify(grant.accessToken)
        return { grant, info }
      }).pipe(Effect.provide(layer(served.caPem)))
      assert.equal(grant.scope, "certificate:manage")
      assert.equal(info.identity, grant.identity)
      assert.equal(info.application, Simulator.defaultClientId)
      const stats = yield* served.simulator.stats
      assert.equal(stats.handshakesCompleted, 1)
      assert.equal(stats.handshakesRejected, 0)
      assert.equal(stats.authorizeIntegrated, 1)
      assert.equal(stats.verify, 1)

      const untrusted = yield* Effect.either(VedAuth.verify(grant.accessToken).pipe(Effect.provide(layer(undefined))))
      assert.ok(Either.isLeft(untrusted), "fetch does not trust the simulator's CA unless given it")
      assert.equal((untrusted.left as { _tag?: unknown })._tag, "TransportError")
      assert.equal((yield* served.simulator.stats).verify, 1, "the untrusted call never reached the server")
    })))
)

deno.test(
  "fetch HTTP client with the proxy option: verify, refresh and revoke each through a CONNECT tunnel (Deno's client proxy)",
  () =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const served = yield* Simulator.serve({ protocol: "https" })
      const proxy = yield* testProxy()
      const layer = fetchLayer(served, { ca: served.caPem!, proxy: proxy.url })
      yield* Effect.gen(function*() {
        const grant = yield* VedAuth.authorize()
        yield* VedAuth.verify(grant.accessToken)
        yield* VedAuth.revoke(yield* VedAuth.refresh(grant))
      }).pipe(Effect.provide(layer))
      const stats = yield* served.simulator.stats
      assert.equal(stats.verify + stats.refresh + stats.revoke, 3)
      // The handshake's tunnel (the Node transport) and fetch's: every connection TPP saw came through the proxy.
      assert.equal(proxy.connects.length, stats.connections)
      for (const c of proxy.connects) assert.equal(`${c.status} ${c.target}`, `200 127.0.0.1:${served.port}`)
    })))
)
