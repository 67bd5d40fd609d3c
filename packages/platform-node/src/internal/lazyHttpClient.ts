import { HttpClient, HttpClientError } from "@effect/platform"
import type * as Https from "node:https"
import { Context, Effect, Layer } from "effect"
import type { TransportError } from "@vedauth/core/VedAuthError"

/**
 * An `HttpClient` whose Node implementation (and undici, which its module pulls in) is loaded on the
 * first request. A program that finds a fresh token in the store never makes one, so a short-lived
 * process such as `vedauth token` starts without paying for it, nor for its agent's TLS context.
 * Agent options that cannot be had (a client key OpenSSL cannot load) fail each request.
 *
 * @internal
 */
export const layerLazyNodeHttpClient = (
  agentOptions: Effect.Effect<Https.AgentOptions, TransportError>
): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const real = yield* Effect.cached(
        Effect.all([Effect.promise(() => import("@effect/platform-node/NodeHttpClient")), agentOptions]).pipe(
          Effect.flatMap(([NodeHttpClient, agent]) =>
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
        (request) =>
          Effect.flatMap(request, (request) =>
            Effect.flatMap(
              Effect.mapError(real, (cause) => new HttpClientError.RequestError({ request, reason: "Transport", cause, description: cause.detail })),
              (client) => client.execute(request)
            )),
        Effect.succeed
      )
    })
  )
