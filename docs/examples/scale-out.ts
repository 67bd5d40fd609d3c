/**
 * N replicas, one grant: VedAuth on Node with the token store on Redis (docs/scale-out.md).
 * Environment: VEDAUTH_URL, VEDAUTH_CLIENT_ID, VEDAUTH_SCOPE, VEDAUTH_USERNAME, VEDAUTH_PASSWORD,
 * VEDAUTH_TOKEN_STORE=rediss://user:password@redis:6380/0, VEDAUTH_STORE_KEY (optional).
 */
import { NodeRuntime } from "@effect/platform-node"
import { VedAuth } from "@vedauth/core"
import { NodeVedAuth } from "@vedauth/platform-node"
import { RedisTokenStore } from "@vedauth/store-redis"
import { Config, Effect } from "effect"

// NodeVedAuth's options from the environment, with the store on Redis instead of a file.
// (NodeVedAuth.layerConfig() alone reads VEDAUTH_TOKEN_STORE as a file path: given a redis:// URL it
// fails with a ConfigError that says to do this.)
const live = NodeVedAuth.layerConfig(
  Config.map(NodeVedAuth.config, (options) => ({ ...options, tokenStore: RedisTokenStore.layerConfig() }))
)

const program = Effect.gen(function*() {
  // Every replica asks as often as it likes: from its own memory while fresh, one refresh for all of them.
  const token = yield* VedAuth.accessToken
  yield* Effect.log("got a token", token) // Redacted: logs as <redacted>
})

program.pipe(Effect.provide(live), NodeRuntime.runMain)
