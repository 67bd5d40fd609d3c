/**
 * Getting started: authorize with Integrated Windows Authentication, keep the grant in the default
 * token store, and call a /vedsdk/ endpoint with a managed bearer token.
 *
 *   VEDAUTH_URL=https://tpp.example.com VEDAUTH_CLIENT_ID=my-app VEDAUTH_SCOPE=certificate:manage \
 *   VEDAUTH_USERNAME='CORP\alice' VEDAUTH_PASSWORD=... node getting-started.js
 */
import { HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import * as TokenStore from "@vedauth/core/TokenStore"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as NodeNtlmTransport from "@vedauth/platform-node/NodeNtlmTransport"
import * as NodeTokenStoreFiles from "@vedauth/platform-node/NodeTokenStoreFiles"
import { Console, Effect, Layer, Schema } from "effect"

const Version = Schema.Struct({ Version: Schema.String })

const program = Effect.gen(function*() {
  // The managed grant: read from the store, refreshed ahead of expiry, re-authorized when it ends.
  const grant = yield* VedAuth.grant
  yield* Console.log(`granted scope '${grant.scope}' until ${grant.expiresAt.toString()}`)

  // Every request through this client carries the bearer token; a 401 renews once and retries once.
  const client = yield* VedAuth.httpClient
  const vedsdk = yield* VedAuth.VedAuth.pipe(Effect.map((auth) => auth.options.url))
  const response = yield* client.execute(HttpClientRequest.get(`${vedsdk}/vedsdk/systemstatus/version`))
  const body = yield* HttpClientResponse.schemaBodyJson(Version)(response)
  yield* Console.log(`TPP version ${body.Version}`)
}).pipe(
  Effect.scoped,
  // Refusals are typed: say what the server said and how to retry.
  Effect.catchTags({
    InvalidScope: (error) => Console.error(`scope refused: ${error.description ?? error.message}`),
    InsufficientScope: (error) => Console.error(`this call needs scope '${error.rejectedScope ?? "?"}'`),
    AuthenticationFailed: (error) => Console.error(error.message)
  })
)

// HTTPS for refresh/verify/revoke and your own calls, NTLM for authorize, the store in
// $XDG_STATE_HOME/vedauth/tokens.json (or VEDAUTH_TOKEN_STORE), mode 0600.
const Platform = Layer.mergeAll(NodeHttpClient.layerUndici, NodeNtlmTransport.layer(), TokenStore.Live).pipe(
  Layer.provide(NodeTokenStoreFiles.layer), // the store's file I/O: no symlink followed, owner and mode checked
  Layer.provideMerge(NodeContext.layer)
)
const MainLayer = VedAuth.layerConfig().pipe(Layer.provideMerge(Platform))

program.pipe(Effect.provide(MainLayer), NodeRuntime.runMain)
