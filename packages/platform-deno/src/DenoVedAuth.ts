/**
 * Everything a Deno program needs for VEDauth in one layer: `VedAuth` over `DenoNtlmTransport`, an
 * `HttpClient` for the plain calls (refresh, verify, revoke) with the same extra CAs and client
 * certificate, and the persistent `TokenStore.Live` on the file system through Deno's Node
 * compatibility (`@effect/platform-node`'s `NodeFileSystem` and `NodePath`, proven under `deno test`
 * by the conformance suite: 0600 file, atomic replace, lock file).
 *
 * The HTTP client is, by default, `@effect/platform-node`'s on Deno's `node:https`: the TLS stack
 * the NTLM transport already uses, so both calls accept the same server certificates. `httpClient:
 * "fetch"` takes `DenoHttpClient` (Deno's own fetch) instead; its verifier (rustls) refuses a
 * self-signed server certificate that is also a CA (`CaUsedAsEndEntity`), as the simulator's and
 * some lab servers' are, where `node:https` accepts it once it is trusted.
 *
 * ```ts
 * program.pipe(Effect.provide(DenoVedAuth.layerConfig()))
 * ```
 *
 * Run with `--allow-net`, `--allow-read`, `--allow-write` (the store) and `--allow-env` (Config).
 *
 * @since 0.1.0
 */
import { NodeFileSystem, NodeHttpClient, NodePath } from "@effect/platform-node"
import type { HttpClient } from "@effect/platform"
import type { ConfigError } from "effect"
import { Config, Effect, Layer } from "effect"
import * as TokenStore from "@vedauth/core/TokenStore"
import * as VedAuth from "@vedauth/core/VedAuth"
import type { TransportError } from "@vedauth/core/VedAuthError"
// The TLS options of platform-node's agents (extra CAs added to the default roots, client
// certificate), so that the plain calls trust exactly what the NTLM transport trusts.
import { agentOptions } from "@vedauth/platform-node/internal/tls"
import * as DenoHttpClient from "./DenoHttpClient.js"
import * as DenoNtlmTransport from "./DenoNtlmTransport.js"
import { transportOptions } from "./internal/config.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends VedAuth.Options {
  /** TLS and timeouts of the Windows-authenticated call; `ca`, `caFile` and `clientCertificate` apply to every call. */
  readonly transport?: DenoNtlmTransport.Options
  /** The client of the plain calls: `"node"` (default, Deno's node:https) or `"fetch"` (`DenoHttpClient`). */
  readonly httpClient?: "node" | "fetch"
  /** The token store file; default `TokenStore.defaultPath` (VEDAUTH_TOKEN_STORE, XDG_STATE_HOME, HOME). */
  readonly tokenStorePath?: string
}

const files = Layer.merge(NodeFileSystem.layer, NodePath.layer)

const tlsOptions = (transport: DenoNtlmTransport.Options): DenoHttpClient.Options => ({
  ...(transport.ca === undefined ? {} : { ca: transport.ca }),
  ...(transport.caFile === undefined ? {} : { caFile: transport.caFile }),
  ...(transport.clientCertificate === undefined ? {} : { clientCertificate: transport.clientCertificate })
})

const fetchClient = (transport: DenoNtlmTransport.Options) => DenoHttpClient.layer(tlsOptions(transport))

const nodeClient = (transport: DenoNtlmTransport.Options): Layer.Layer<HttpClient.HttpClient, TransportError> =>
  Layer.unwrapEffect(
    Effect.map(agentOptions(tlsOptions(transport)), (tls) =>
      Object.keys(tls).length === 0
        ? NodeHttpClient.layer
        : NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer(tls))))
  )

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<VedAuth.VedAuth, TransportError | ConfigError.ConfigError> => {
  const transport = options.transport ?? {}
  const httpClient = options.httpClient === "fetch" ? fetchClient(transport) : nodeClient(transport)
  const tokenStore = (options.tokenStorePath === undefined
    ? TokenStore.Live
    : TokenStore.layerFileSystem({ path: options.tokenStorePath })).pipe(Layer.provide(files))
  return VedAuth.layer(options).pipe(
    Layer.provide(Layer.mergeAll(httpClient, DenoNtlmTransport.layer(transport), tokenStore))
  )
}

/**
 * `VedAuth.config` plus `DenoNtlmTransport.config` (VEDAUTH_CA_FILE, timeouts) from the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = Config.map(
    Config.all({ vedAuth: VedAuth.config, transport: DenoNtlmTransport.config }),
    ({ transport, vedAuth }): Options => ({ ...vedAuth, transport: transportOptions(transport) })
  )
): Layer.Layer<VedAuth.VedAuth, TransportError | ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(options, layer))
