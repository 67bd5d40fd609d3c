import { HttpClient, HttpClientError } from "@effect/platform"
import type { TransportError } from "@vedauth/core/VedAuthError"
import { Context, Effect, Layer } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import { isDirect, type Routes } from "./proxy.js"
import { type ProxyNegotiate, routeAgent } from "./tunnel.js"

/** Where the client's connections go: the layer's proxy routes and the time a tunnel may take. @internal */
export interface ProxyRoute {
  readonly routes: Routes
  readonly connectTimeoutMs: number
  /** Kerberos for a proxy that asks for Negotiate. */
  readonly negotiate?: ProxyNegotiate | undefined
}

type NodeHttpClientModule = typeof import("@effect/platform-node/NodeHttpClient")

// Node's two agents, each opening its connections through the proxy its routes give (directly for
// hosts NO_PROXY names): refresh, verify, revoke and the program's own calls take the same route as
// the Windows-authenticated call.
const routedAgentLayer = (module: NodeHttpClientModule, options: Https.AgentOptions, route: ProxyRoute) =>
  Layer.scoped(
    module.HttpAgent,
    Effect.acquireRelease(
      Effect.sync(() => ({
        [module.HttpAgentTypeId]: module.HttpAgentTypeId,
        http: routeAgent(new Http.Agent(options), route.routes, false, route.connectTimeoutMs, route.negotiate),
        https: routeAgent(new Https.Agent(options), route.routes, true, route.connectTimeoutMs, route.negotiate)
      })),
      (agents) => Effect.sync(() => (agents.http.destroy(), agents.https.destroy()))
    )
  )

const clientLayer = (module: NodeHttpClientModule, agent: Https.AgentOptions, route: ProxyRoute | undefined) =>
  route !== undefined && !isDirect(route.routes)
    ? module.layerWithoutAgent.pipe(Layer.provide(routedAgentLayer(module, agent, route)))
    : Object.keys(agent).length === 0
    ? module.layer
    : module.layerWithoutAgent.pipe(Layer.provide(module.makeAgentLayer(agent)))

/**
 * An `HttpClient` whose Node implementation (and undici, which its module pulls in) is loaded on the
 * first request. A program that finds a fresh token in the store never makes one, so a short-lived
 * process such as `vedauth token` starts without paying for it, nor for its agent's TLS context.
 * Agent options that cannot be had (a client key OpenSSL cannot load) fail each request. With proxy
 * routes, both of its agents open their connections through CONNECT tunnels (`tunnel.ts`).
 *
 * @internal
 */
export const layerLazyNodeHttpClient = (
  agentOptions: Effect.Effect<Https.AgentOptions, TransportError>,
  route: Effect.Effect<ProxyRoute | undefined, TransportError> = Effect.succeed(undefined)
): Layer.Layer<HttpClient.HttpClient> =>
  Layer.scoped(
    HttpClient.HttpClient,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const real = yield* Effect.cached(
        Effect.all([Effect.promise(() => import("@effect/platform-node/NodeHttpClient")), agentOptions, route]).pipe(
          Effect.flatMap(([NodeHttpClient, agent, route]) =>
            Layer.buildWithScope(clientLayer(NodeHttpClient, agent, route), scope)
          ),
          Effect.map(Context.get(HttpClient.HttpClient))
        )
      )
      return HttpClient.makeWith<never, never, HttpClientError.HttpClientError, never>(
        (request) =>
          Effect.flatMap(request, (request) =>
            Effect.flatMap(
              Effect.mapError(real, (cause) =>
                new HttpClientError.RequestError({ request, reason: "Transport", cause, description: cause.detail })),
              (client) =>
                client.execute(request)
            )),
        Effect.succeed
      )
    })
  )
