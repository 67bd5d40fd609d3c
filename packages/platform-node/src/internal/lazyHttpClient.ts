import type { HttpClientError } from "@effect/platform"
import { HttpClient } from "@effect/platform"
import type * as Https from "node:https"
import { Context, Effect, Layer } from "effect"

/**
 * An `HttpClient` whose Node implementation (and undici, which its module pulls in) is loaded on the
 * first request. A program that finds a fresh token in the store never makes one, so a short-lived
 * process such as `vedauth token` starts without paying for it.
 *
 * @internal
 */
export const layerLazyNodeHttpClient = (agent: Https.AgentOptions): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const real = yield* Effect.cached(
        Effect.promise(() => import("@effect/platform-node/NodeHttpClient")).pipe(
          Effect.flatMap((NodeHttpClient) =>
            Layer.buildWithScope(
              Object.keys(agent).length === 0
                ? NodeHttpClient.layer
                : NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer(agent))),
              scope
            )
          ),
          Effect.map(Context.get(HttpClient.HttpClient))
        )
      )
      return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
        (request) => Effect.flatMap(real, (client) => Effect.flatMap(request, client.execute)),
        Effect.succeed
      )
    })
  )
