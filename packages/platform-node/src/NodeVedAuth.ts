/**
 * Everything a Node program needs for VEDauth in one layer: `VedAuth` over `NodeNtlmTransport`,
 * `NodeHttpClient` (with the same extra CAs and client certificate), and the persistent
 * `TokenStore.Live` on the Node file system.
 *
 * ```ts
 * program.pipe(Effect.provide(NodeVedAuth.layerConfig()))
 * ```
 *
 * @since 0.1.0
 */
// Deep imports: the package index would load every Node module (cluster, workers, undici) at start-up.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import type { ConfigError } from "effect"
import { Config, Effect, Layer, Option } from "effect"
import * as TokenStore from "@vedauth/core/TokenStore"
import * as VedAuth from "@vedauth/core/VedAuth"
import type { TransportError } from "@vedauth/core/VedAuthError"
import { layerLazyNodeHttpClient } from "./internal/lazyHttpClient.js"
import { agentOptions } from "./internal/tls.js"
import * as NodeNtlmTransport from "./NodeNtlmTransport.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends VedAuth.Options {
  /** TLS and timeouts of the Windows-authenticated call; `ca`, `caFile` and `clientCertificate` apply to every call. */
  readonly transport?: NodeNtlmTransport.Options
  /** The token store file; default `TokenStore.defaultPath` (VEDAUTH_TOKEN_STORE, XDG_STATE_HOME, HOME). */
  readonly tokenStorePath?: string
}

const nodeFiles = Layer.merge(NodeFileSystem.layer, NodePath.layer)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<VedAuth.VedAuth, TransportError | ConfigError.ConfigError> => {
  const transport = options.transport ?? {}
  const httpClient = Layer.unwrapEffect(Effect.map(agentOptions(transport), layerLazyNodeHttpClient))
  const tokenStore = (options.tokenStorePath === undefined
    ? TokenStore.Live
    : TokenStore.layerFileSystem({ path: options.tokenStorePath })).pipe(Layer.provide(nodeFiles))
  return VedAuth.layer(options).pipe(
    Layer.provide(Layer.mergeAll(httpClient, NodeNtlmTransport.layer(transport), tokenStore))
  )
}

/**
 * `VedAuth.config` plus `NodeNtlmTransport.config` (VEDAUTH_CA_FILE, timeouts) from the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = Config.map(
    Config.all({ vedAuth: VedAuth.config, transport: NodeNtlmTransport.config }),
    ({ transport, vedAuth }): Options => ({
      ...vedAuth,
      transport: {
        ...Option.match(transport.caFile, { onNone: () => ({}), onSome: (caFile) => ({ caFile }) }),
        ...Option.match(transport.connectTimeout, { onNone: () => ({}), onSome: (connectTimeout) => ({ connectTimeout }) }),
        ...Option.match(transport.responseTimeout, { onNone: () => ({}), onSome: (responseTimeout) => ({ responseTimeout }) })
      }
    })
  )
): Layer.Layer<VedAuth.VedAuth, TransportError | ConfigError.ConfigError> => Layer.unwrapEffect(Effect.map(options, layer))
