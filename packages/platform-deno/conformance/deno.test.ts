/**
 * The conformance suite under `deno test` (scripts/test-deno.mjs gives the flags), on
 * `DenoVedAuth.layer`: Deno's node:http(s) for NTLM and, by default, for the plain calls; the
 * Node-compatible file system for the token store. The cases that need no TLS run a second time
 * with `httpClient: "fetch"` (Deno's fetch), and the one thing fetch cannot do here is pinned down.
 */
import * as VedAuth from "@vedauth/core/VedAuth"
import * as Simulator from "@vedauth/testing/Simulator"
import { Effect, Either, Redacted } from "effect"
import * as assert from "node:assert/strict"
import { DenoVedAuth } from "../src/index.js"
import { cases, httpCases, runCase } from "./cases.js"
import type { Platform } from "./Platform.js"

interface DenoTest {
  readonly test: (name: string, fn: () => Promise<void>) => void
}

const deno = (globalThis as unknown as { readonly Deno: DenoTest }).Deno

const platform = (httpClient: "node" | "fetch"): Platform => ({
  runtime: `deno (${httpClient} HTTP client)`,
  layer: ({ ca, onHandshake, tokenStorePath, ...options }) =>
    DenoVedAuth.layer({ ...options, httpClient, tokenStorePath, transport: { onHandshake, ...(ca === undefined ? {} : { ca }) } })
})

for (const testCase of cases) {
  deno.test(testCase.name, () => runCase(platform("node"), testCase))
}
for (const testCase of httpCases) {
  deno.test(`fetch HTTP client: ${testCase.name}`, () => runCase(platform("fetch"), testCase))
}

deno.test(
  "fetch HTTP client: refuses a self-signed CA certificate as the server's (rustls: CaUsedAsEndEntity) that the node client accepts",
  () =>
    Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const served = yield* Simulator.serve({ protocol: "https" })
      const isAuthServer = (httpClient: "node" | "fetch") =>
        Effect.either(VedAuth.isAuthServer.pipe(Effect.provide(DenoVedAuth.layer({
          url: served.url,
          clientId: Simulator.defaultClientId,
          scope: "certificate:manage",
          username: "CORP\\alice",
          password: Redacted.make("Passw0rd!"),
          httpClient,
          tokenStorePath: "/nonexistent/never-written.json",
          transport: { ...(served.caPem === undefined ? {} : { ca: served.caPem }) }
        }))))
      const viaNode = yield* isAuthServer("node")
      assert.ok(Either.isRight(viaNode) && viaNode.right === true, "node:https trusts the given certificate")
      const viaFetch = yield* isAuthServer("fetch")
      assert.ok(Either.isLeft(viaFetch))
      assert.equal((viaFetch.left as { _tag?: unknown })._tag, "TransportError")
    })))
)
