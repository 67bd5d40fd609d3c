/**
 * `NtlmTransport` for Deno: Integrated Windows Authentication (NTLMv2, with MIC and TLS channel
 * bindings) for one request at a time, each handshake on its own kept-alive connection.
 *
 * Deno's `node:http` / `node:https` keep a request on the socket an `Agent({ keepAlive: true,
 * maxSockets: 1 })` hands out and expose the server certificate of that socket, which is all the
 * handshake needs; so this is `@vedauth/platform-node`'s handshake, run by Deno. The conformance
 * suite (`pnpm test:deno`) proves it under real `deno test`: two round trips on one socket, over
 * HTTP and over HTTPS with channel bindings required. Deno's `fetch` cannot do this: it pools
 * connections out of the caller's sight, so the AUTHENTICATE may leave on another connection than
 * the CHALLENGE came on.
 *
 * @since 0.1.0
 */
import { NtlmTransport } from "@vedauth/core/NtlmTransport"
import type * as NtlmTransportModule from "@vedauth/core/NtlmTransport"
import type { TransportError } from "@vedauth/core/VedAuthError"
import { NodeNtlmTransport } from "@vedauth/platform-node"
import type { ConfigError } from "effect"
import { Config, Effect, Layer } from "effect"

/**
 * Extra CAs (`ca`, `caFile`), client certificate, timeouts, scheme, the `onHandshake` hook and the
 * proxy (`proxy`, `noProxy`, `proxyKerberos`: CONNECT tunnels over Deno's `node:net` and `node:tls`),
 * as on Node. Deno's `--allow-net` must name the proxy.
 *
 * @since 0.1.0
 * @category models
 */
export type Options = NodeNtlmTransport.Options

/**
 * What one handshake cost: round trips and sockets (never a secret).
 *
 * @since 0.1.0
 * @category models
 */
export type Stats = NodeNtlmTransport.Stats

/**
 * The transport as a value, for callers that build their own layers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<NtlmTransportModule.Service, TransportError> = Effect.fn(
  "DenoNtlmTransport.make"
)(function*(options: Options = {}) {
  const transport = yield* NodeNtlmTransport.make(options)
  return NtlmTransport.of({
    request: (request) => transport.request(request).pipe(Effect.withSpan("DenoNtlmTransport.request")),
    ...(transport.enforcesTimeout === undefined ? {} : { enforcesTimeout: transport.enforcesTimeout })
  })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<NtlmTransport, TransportError> =>
  Layer.effect(NtlmTransport, make(options))

/**
 * The options that can come from configuration: `VEDAUTH_CA_FILE`, `VEDAUTH_CONNECT_TIMEOUT`,
 * `VEDAUTH_RESPONSE_TIMEOUT`.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<NodeNtlmTransport.ConfigOptions> = NodeNtlmTransport.config

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<NodeNtlmTransport.ConfigOptions> = config
): Layer.Layer<NtlmTransport, TransportError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(options, (c) => layer(NodeNtlmTransport.fromConfig(c))))
