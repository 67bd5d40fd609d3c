/**
 * Everything a Node program needs for VEDauth in one layer: `VedAuth` over `NodeNtlmTransport`,
 * `NodeHttpClient` (with the same extra CAs and client certificate; also provided, for
 * `VedAuth.httpClient` and the program's own calls), the persistent `TokenStore.Live` on the
 * Node file system (or the store given as `tokenStore`), and for Kerberos `NodeKdcTransport`,
 * `NodeKcmTransport` (RHEL's `KCM:` caches), the
 * hardened reader of every local file (keytab, credential cache, krb5.conf, JWT file; `LocalFiles`)
 * and `NodeSystemKerberos` (the system's tickets with
 * `kerberos: { system: true }`).
 *
 * ```ts
 * program.pipe(Effect.provide(NodeVedAuth.layerConfig()))
 * // replicas on many machines, one grant shared through Redis (@vedauth/store-redis):
 * program.pipe(Effect.provide(NodeVedAuth.layerConfig(
 *   Config.map(NodeVedAuth.config, (options) => ({ ...options, tokenStore: RedisTokenStore.layerConfig() }))
 * )))
 * ```
 *
 * @since 0.1.0
 */
// Deep imports: the package index would load every Node module (cluster, workers, undici) at start-up.
import type { HttpClient, Path } from "@effect/platform"
import * as NodePath from "@effect/platform-node/NodePath"
import type { NtlmTransport } from "@vedauth/core/NtlmTransport"
import * as TokenStore from "@vedauth/core/TokenStore"
import type { TokenStoreFiles } from "@vedauth/core/TokenStoreFiles"
import * as VedAuth from "@vedauth/core/VedAuth"
import type { TransportError } from "@vedauth/core/VedAuthError"
import type { ConfigError } from "effect"
import { Config, Duration, Effect, Layer } from "effect"
import { layerLazyNodeHttpClient } from "./internal/lazyHttpClient.js"
import { resolveRoutes } from "./internal/proxy.js"
import * as proxyNegotiate from "./internal/proxyNegotiate.js"
import { loadAgentOptions } from "./internal/tls.js"
import * as NodeKcmTransport from "./NodeKcmTransport.js"
import * as NodeKdcTransport from "./NodeKdcTransport.js"
import * as NodeNtlmTransport from "./NodeNtlmTransport.js"
import * as NodeSystemKerberos from "./NodeSystemKerberos.js"
import * as NodeTokenStoreFiles from "./NodeTokenStoreFiles.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<StoreError = never> extends VedAuth.Options {
  /** TLS and timeouts of the Windows-authenticated call; `ca`, `caFile`, `clientCertificate`, `proxy` and `noProxy` apply to every call. */
  readonly transport?: NodeNtlmTransport.Options
  /** How Kerberos reaches the KDC (timeouts); see `NodeKdcTransport.Options`. */
  readonly kdcTransport?: NodeKdcTransport.Options
  /**
   * The token store file; default `TokenStore.defaultPath` (VEDAUTH_TOKEN_STORE, XDG_STATE_HOME, HOME, LOCALAPPDATA).
   * A URL here (or in VEDAUTH_TOKEN_STORE) fails the layer with a `ConfigError`: use `tokenStore`.
   */
  readonly tokenStorePath?: string
  /**
   * A token store that is not a file, used instead of `tokenStorePath`: e.g. the store replicas on
   * many machines share, `RedisTokenStore.layerConfig()` from `@vedauth/store-redis`.
   */
  readonly tokenStore?: Layer.Layer<TokenStore.TokenStore, StoreError>
}

const nodeFiles = Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer)

/**
 * What a runtime plugs into `compose`. Both clients are built from one `NodeNtlmTransport.tlsOptions`
 * result, so the CA file is read once and both calls trust the same certificates.
 *
 * @since 0.1.0
 * @category models
 */
export interface Components<E> {
  /** The client of the plain calls (refresh, verify, revoke). */
  readonly httpClient: (
    transport: NodeNtlmTransport.ResolvedTls<NodeNtlmTransport.Options>
  ) => Layer.Layer<HttpClient.HttpClient, E>
  /** The Windows-authenticated call. */
  readonly transport: (
    transport: NodeNtlmTransport.ResolvedTls<NodeNtlmTransport.Options>
  ) => Layer.Layer<NtlmTransport, E>
  /** The hardened file operations of the token store (`NodeTokenStoreFiles.layer`) and paths. */
  readonly files: Layer.Layer<TokenStoreFiles | Path.Path>
}

// `DOMAIN\user` names a NetBIOS domain, not a Kerberos realm: with a realm given, `user@realm` (as the login does).
const principalOf = (username: string | undefined, realm: string | undefined): string | undefined => {
  if (username === undefined || username === "") return undefined
  const backslash = username.indexOf("\\")
  if (backslash < 0 || realm === undefined || username.slice(0, backslash).includes(".")) return username
  return `${username.slice(backslash + 1)}@${realm}`
}

/**
 * The transport's options with the proxy's Kerberos taken from the login's (`username`, `password`,
 * `kerberos`), unless given there or the system's Kerberos is used (its tickets are not ours to read).
 */
const transportOptions = (
  options: VedAuth.Options & { readonly transport?: NodeNtlmTransport.Options }
): NodeNtlmTransport.Options => {
  const kerberos = options.kerberos
  if (options.transport?.proxyKerberos !== undefined || kerberos === undefined || kerberos.system === true) {
    return options.transport ?? {}
  }
  const principal = principalOf(options.username, kerberos.realm)
  const proxyKerberos: NodeNtlmTransport.ProxyKerberos = {
    ...(principal === undefined ? {} : { principal }),
    ...(options.password === undefined ? {} : { password: options.password }),
    ...(kerberos.keytab === undefined ? {} : { keytab: kerberos.keytab }),
    ...(kerberos.cache === undefined ? {} : { cache: kerberos.cache }),
    ...(kerberos.realm === undefined ? {} : { realm: kerberos.realm }),
    ...(kerberos.kdc === undefined ? {} : { kdc: kerberos.kdc })
  }
  return { ...options.transport, proxyKerberos }
}

/**
 * `VedAuth` over a runtime's HTTP client, NTLM transport and file system: resolves the TLS settings
 * of `options.transport` once, builds both clients from them, and uses `options.tokenStore`, else
 * keeps the token store in `options.tokenStorePath` (else `TokenStore.Live`'s path). `layer` here
 * and `DenoVedAuth.layer` are this with their own components.
 *
 * @since 0.1.0
 * @category layers
 */
export const compose = <E = never, StoreError = never>(
  options: Options<StoreError>,
  components: Components<E>
): Layer.Layer<VedAuth.VedAuth | HttpClient.HttpClient, E | StoreError | TransportError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(NodeNtlmTransport.tlsOptions(transportOptions(options)), (transport) => {
    const tokenStore = options.tokenStore ??
      (options.tokenStorePath === undefined
        ? TokenStore.Live
        : TokenStore.layerConfig(Config.succeed(options.tokenStorePath))).pipe(Layer.provide(components.files))
    // The HTTP client stays in the output: a program's own calls (VedAuth.httpClient) then trust the same CAs.
    const httpClient = components.httpClient(transport)
    // The hardened reader (the store's own, LocalFiles) for a keytab, credential cache or krb5.conf
    // (Kerberos) and a JWT read from a file at each authorize (`Credentials.jwtFile`); the KDC over
    // TCP; a KCM credential cache's daemon over its Unix socket; the system's Kerberos (its addon
    // loaded only when `kerberos.system` is used).
    const kerberos = Layer.mergeAll(
      NodeKdcTransport.layer(options.kdcTransport ?? {}),
      NodeKcmTransport.layer(),
      components.files,
      NodeSystemKerberos.layer
    )
    // A proxy asking for Negotiate gets its ticket through the same KDC transport and file reader.
    return VedAuth.layer(options).pipe(
      Layer.provide(Layer.mergeAll(Layer.provide(components.transport(transport), kerberos), tokenStore, kerberos)),
      Layer.provideMerge(Layer.provide(httpClient, kerberos))
    )
  }))

/**
 * `@effect/platform-node`'s `HttpClient` with the given TLS settings (`NodeNtlmTransport.agentOptions`)
 * and proxy (`NodeNtlmTransport.ProxyOptions`: the same route as the Windows-authenticated call),
 * its module (and undici) loaded on the first request: a program that finds a fresh token in the
 * store never makes one, so a short-lived process starts without paying for it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient = (
  tls: NodeNtlmTransport.ResolvedTls<NodeNtlmTransport.Options>
): Layer.Layer<HttpClient.HttpClient> =>
  // The proxy's Kerberos runs on the KDC transport and file reader of the context the layer is built in.
  Layer.unwrapEffect(Effect.map(proxyNegotiate.services, (services) =>
    layerLazyNodeHttpClient(
      loadAgentOptions(tls),
      Effect.map(resolveRoutes(tls), (routes) => ({
        routes,
        connectTimeoutMs: Duration.toMillis(Duration.decode(tls.connectTimeout ?? Duration.seconds(10))),
        negotiate: proxyNegotiate.forOptions(tls, routes, services)
      }))
    )))

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = <StoreError = never>(
  options: Options<StoreError>
): Layer.Layer<VedAuth.VedAuth | HttpClient.HttpClient, StoreError | TransportError | ConfigError.ConfigError> =>
  compose(options, {
    httpClient: layerHttpClient,
    transport: NodeNtlmTransport.layer,
    files: nodeFiles
  })

/**
 * `VedAuth.config` plus `NodeNtlmTransport.config` (VEDAUTH_CA_FILE, timeouts) from the environment.
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.map(
  Config.all({ vedAuth: VedAuth.config, transport: NodeNtlmTransport.config }),
  ({ transport, vedAuth }): Options => ({ ...vedAuth, transport: NodeNtlmTransport.fromConfig(transport) })
)

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = <StoreError = never>(
  options: Config.Config<Options<StoreError>> = config
): Layer.Layer<VedAuth.VedAuth | HttpClient.HttpClient, StoreError | TransportError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(options, layer))
