/**
 * Everything a Deno program needs for VEDauth in one layer: `VedAuth` over `DenoNtlmTransport`, an
 * `HttpClient` for the plain calls (refresh, verify, revoke) with the same extra CAs and client
 * certificate, and the persistent `TokenStore.Live` on the file system through Deno's Node
 * compatibility (`NodeTokenStoreFiles` and `@effect/platform-node`'s `NodePath`, proven under
 * `deno test` by the conformance suite: 0600 file, atomic replace, lock file).
 *
 * The HTTP client is, by default, `@effect/platform-node`'s on Deno's `node:https`: the TLS stack
 * the NTLM transport already uses, so both calls accept the same server certificates. `httpClient:
 * "fetch"` takes `DenoHttpClient` (Deno's own fetch) instead, trusting the same extra CAs. Its
 * verifier (rustls) is stricter: the server must present a leaf certificate issued by a trusted CA
 * (as TPP behind an enterprise CA does, and the simulator does); a self-signed server certificate
 * that is also a CA, as some lab servers present, is refused (`CaUsedAsEndEntity`) where
 * `node:https` accepts it once it is trusted.
 *
 * ```ts
 * program.pipe(Effect.provide(DenoVedAuth.layerConfig()))
 * ```
 *
 * Run with `--allow-net`, `--allow-read`, `--allow-write` (the store) and `--allow-env` (Config).
 *
 * @since 0.1.0
 */
// Deep imports: the package index would load every Node module (cluster, workers, undici) at start-up.
import * as NodePath from "@effect/platform-node/NodePath"
import type * as VedAuth from "@vedauth/core/VedAuth"
import type { TransportError } from "@vedauth/core/VedAuthError"
import { NodeTokenStoreFiles, NodeVedAuth } from "@vedauth/platform-node"
import type { Config, ConfigError } from "effect"
import { Effect, Layer } from "effect"
import * as DenoHttpClient from "./DenoHttpClient.js"
import * as DenoNtlmTransport from "./DenoNtlmTransport.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends VedAuth.Options {
  /** TLS and timeouts of the Windows-authenticated call; `ca`, `caFile` and `clientCertificate` apply to every call. */
  readonly transport?: DenoNtlmTransport.Options
  /** The client of the plain calls: `"node"` (default, Deno's node:https) or `"fetch"` (`DenoHttpClient`). */
  readonly httpClient?: "node" | "fetch"
  /** The token store file; default `TokenStore.defaultPath` (VEDAUTH_TOKEN_STORE, XDG_STATE_HOME, HOME, LOCALAPPDATA). */
  readonly tokenStorePath?: string
}

// The store's hardened file operations on node:fs run under Deno's Node compatibility as they are.
const files = Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer)

/**
 * `NodeVedAuth.compose` with Deno's components: the CA file is read once for both clients.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<VedAuth.VedAuth, TransportError | ConfigError.ConfigError> =>
  NodeVedAuth.compose(options, {
    httpClient: options.httpClient === "fetch" ? DenoHttpClient.layer : NodeVedAuth.layerHttpClient,
    transport: DenoNtlmTransport.layer,
    files
  })

/**
 * `VedAuth.config` plus `DenoNtlmTransport.config` (VEDAUTH_CA_FILE, timeouts) from the environment.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = NodeVedAuth.config
): Layer.Layer<VedAuth.VedAuth, TransportError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(options, layer))
