/**
 * Getting started: authorize with Integrated Windows Authentication, keep the grant in the default
 * token store, and call a /vedsdk/ endpoint with a managed bearer token.
 *
 * Written without type annotations on purpose: the same text runs as `getting-started.mjs` on Node,
 * Deno and Bun, and type-checks as TypeScript (CI does both, from a project that installed the
 * packed tarballs).
 *
 *   VEDAUTH_URL=https://tpp.example.com VEDAUTH_CLIENT_ID=my-app VEDAUTH_SCOPE=certificate:manage \
 *   VEDAUTH_USERNAME='CORP\alice' VEDAUTH_PASSWORD=... node getting-started.mjs
 */
import { HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeRuntime } from "@effect/platform-node"
import { VedAuth } from "@vedauth/core"
import { NodeVedAuth } from "@vedauth/platform-node"
import { Console, Effect, Schema } from "effect"

const Certificates = Schema.Struct({ TotalCount: Schema.Number })

const program = Effect.gen(function*() {
  // The managed grant: read from the store, refreshed ahead of expiry, re-authorized when it ends.
  const grant = yield* VedAuth.grant
  yield* Console.log(`granted scope '${grant.scope}' to ${grant.identity}`)

  // Every request through this client carries the bearer token; a 401 renews once and retries once.
  const client = yield* VedAuth.httpClient
  const { url } = (yield* VedAuth.VedAuth).options
  const response = yield* client.execute(HttpClientRequest.get(`${url}/vedsdk/certificates/`))
  const body = yield* HttpClientResponse.schemaBodyJson(Certificates)(response)
  yield* Console.log(`${body.TotalCount} certificate(s) visible`)
}).pipe(
  Effect.scoped,
  // Refusals are typed: say what the server said, then fail so the exit code says so too.
  Effect.tapErrorTag("InvalidScope", (error) => Console.error(`scope refused: ${error.description ?? error.message}`)),
  Effect.tapErrorTag(
    "InsufficientScope",
    (error) => Console.error(`this call needs scope '${error.rejectedScope ?? "?"}'`)
  )
)

// One layer: VedAuth with the NTLM transport, an HTTPS client trusting the same extra CAs
// (VEDAUTH_CA_FILE), and TokenStore.Live (VEDAUTH_TOKEN_STORE, else $XDG_STATE_HOME/vedauth), all
// configured from VEDAUTH_* variables.
program.pipe(Effect.provide(NodeVedAuth.layerConfig()), NodeRuntime.runMain)
