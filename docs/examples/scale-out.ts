/**
 * N replicas, one grant: VedAuth on Node with the token store on Redis (docs/scale-out.md).
 * Environment: VEDAUTH_URL, VEDAUTH_CLIENT_ID, VEDAUTH_SCOPE, VEDAUTH_USERNAME, VEDAUTH_PASSWORD,
 * VEDAUTH_TOKEN_STORE=rediss://user:password@redis:6380/0, VEDAUTH_STORE_KEY (optional).
 */
import { NodeRuntime } from "@effect/platform-node"
import { VedAuth } from "@vedauth/core"
import { NodeNtlmTransport, NodeVedAuth } from "@vedauth/platform-node"
import { RedisTokenStore } from "@vedauth/store-redis"
import { Effect, Layer } from "effect"

const live = Layer.unwrapEffect(Effect.gen(function*() {
  const options = yield* VedAuth.config
  const tls = yield* NodeNtlmTransport.tlsOptions({})
  return VedAuth.layer(options).pipe(
    Layer.provide(Layer.mergeAll(NodeNtlmTransport.layer(tls), NodeVedAuth.layerHttpClient(tls), RedisTokenStore.layerConfig()))
  )
}))

const program = Effect.gen(function*() {
  // Every replica asks as often as it likes: from its own memory while fresh, one refresh for all of them.
  const token = yield* VedAuth.accessToken
  yield* Effect.log("got a token", token) // Redacted: logs as <redacted>
})

program.pipe(Effect.provide(live), NodeRuntime.runMain)
