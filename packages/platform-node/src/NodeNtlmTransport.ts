/**
 * `NtlmTransport` on `node:http` / `node:https`: Integrated Windows Authentication (NTLMv2, with MIC
 * and TLS channel bindings) for one request at a time, each on its own kept-alive connection.
 *
 * - A dedicated `Agent({ keepAlive: true, maxSockets: 1 })` per handshake, destroyed afterwards, so
 *   that NEGOTIATE, AUTHENTICATE and the body travel on one connection and concurrent calls never
 *   share one.
 * - The NEGOTIATE goes with the first request (2 round trips, the protocol's minimum), a POST's body
 *   with the AUTHENTICATE. The scheme sent first is `NTLM`: it names exactly what is spoken, while a
 *   raw NTLMSSP token under `Negotiate` is a shortcut servers tolerate rather than SPNEGO. When a
 *   server offers only `Negotiate`, the NEGOTIATE is resent under it (one more round trip) and the
 *   origin's scheme is remembered for the layer's lifetime, so later handshakes take 2 round trips.
 * - TLS is verified (Node's defaults plus an optional CA bundle); channel bindings come from the
 *   server certificate of the very connection.
 * - Through an HTTP proxy (`proxy`, else `HTTPS_PROXY`; `ProxyOptions`), the one connection is a
 *   CONNECT tunnel with TLS to TPP inside it: the handshake and its channel bindings are as direct.
 *   A proxy asking for Basic gets the proxy URL's credentials, one asking for Negotiate a Kerberos
 *   token for `HTTP/<proxy host>` (`proxyKerberos`), each sent once.
 *
 * @since 0.1.0
 */
import { NtlmTransport } from "@vedauth/core/NtlmTransport"
import type * as NtlmTransportModule from "@vedauth/core/NtlmTransport"
import type { TransportError } from "@vedauth/core/VedAuthError"
import type { ConfigError } from "effect"
import type { Redacted } from "effect"
import { Config, Duration, Effect, Layer, Option } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import { handshake, type HandshakeStats, type Scheme } from "./internal/handshake.js"
import { isDirect, resolveRoutes } from "./internal/proxy.js"
import * as proxyNegotiate from "./internal/proxyNegotiate.js"
import * as tls from "./internal/tls.js"
import { routeAgent } from "./internal/tunnel.js"

/**
 * A client certificate for TLS client authentication (PEM).
 *
 * @since 0.1.0
 * @category models
 */
export interface ClientCertificate {
  readonly cert: string
  readonly key: Redacted.Redacted<string>
  readonly passphrase?: Redacted.Redacted<string>
}

/**
 * What one handshake cost, for benchmarks and diagnostics (never a secret).
 *
 * @since 0.1.0
 * @category models
 */
export type Stats = HandshakeStats

/**
 * What to trust and how to identify over TLS; the NTLM transport and the plain HTTP client of
 * `NodeVedAuth` (and of `@vedauth/platform-deno`) take the same settings.
 *
 * @since 0.1.0
 * @category models
 */
export interface TlsOptions {
  /** Extra trusted CA certificates (PEM), added to the runtime's default roots. */
  readonly ca?: string | ReadonlyArray<string>
  /** A PEM file of extra trusted CA certificates, read when the layer is built. */
  readonly caFile?: string
  /** The TLS client certificate (PEM strings): the identity of the certificate grant. */
  readonly clientCertificate?: ClientCertificate
  /**
   * The client certificate and its key from PEM files, read when the layer is built (instead of
   * `clientCertificate`; `VEDAUTH_CLIENT_CERT` and `VEDAUTH_CLIENT_KEY` in `config`).
   */
  readonly clientCertificateFiles?: { readonly cert: string; readonly key: string }
  /**
   * Go on when `NODE_TLS_REJECT_UNAUTHORIZED=0` is set in the environment (it turns certificate
   * verification off for the whole process), with a warning; without this the layer fails with a
   * `TransportError`. `VEDAUTH_ALLOW_UNVERIFIED_TLS=1` in `config`.
   */
  readonly allowUnverifiedTls?: boolean
}

/**
 * Options whose TLS settings are resolved: `caFile` has been read into `ca`, which lists every extra
 * CA (PEM, possibly none). Building several clients from one value reads the file once.
 *
 * @since 0.1.0
 * @category models
 */
export type ResolvedTls<O extends TlsOptions = TlsOptions> = Omit<O, "ca" | "caFile" | "clientCertificateFiles"> & {
  readonly ca: ReadonlyArray<string>
}

/**
 * Which HTTP proxy the calls to TPP go through (`docs/proxies.md`). Every call of a layer (the
 * Windows-authenticated one, refresh, verify, revoke, the other grants) takes the same route; the
 * KDC is always reached directly.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProxyOptions {
  /**
   * The proxy, `http://[user:password@]host[:port]` (the user and password percent-encoded; they
   * become Basic `Proxy-Authorization`), for https and http TPP alike; `false`: no proxy, whatever
   * the environment says. Absent: `https_proxy`/`HTTPS_PROXY` for https TPP and `http_proxy` for
   * http TPP, read when the layer is built, as curl reads them. `VEDAUTH_PROXY` in `config`.
   */
  readonly proxy?: string | Redacted.Redacted<string> | false
  /**
   * Hosts reached directly, in curl's `NO_PROXY` syntax (`*`, names and domains, IP addresses and
   * CIDR ranges, each optionally `:port`); absent: `no_proxy`/`NO_PROXY`. Loopback is proxied
   * unless named here. `VEDAUTH_NO_PROXY` in `config`.
   */
  readonly noProxy?: string
  /**
   * Kerberos for a proxy that answers `407` with `Proxy-Authenticate: Negotiate`: a ticket for
   * `HTTP/<proxy host>` (a host name: MIT refuses SPNs for IP addresses), sent once in the CONNECT
   * again. `NodeVedAuth` fills it from the login's `username`, `password` and `kerberos` settings.
   * Without it such a proxy's 407 is the `TransportError` "proxy authentication required".
   */
  readonly proxyKerberos?: ProxyKerberos
}

/**
 * Where the proxy's Kerberos ticket comes from (see `ProxyOptions.proxyKerberos`): a keytab, else the
 * password (a password effect runs only when no credential cache is given), else the credential
 * cache's tickets; `principal`, `realm` and `kdc` as in `VedAuth.KerberosOptions`. The KDC is reached
 * directly, through the layer's `KdcTransport` (else Node's).
 *
 * @since 0.2.0
 * @category models
 */
export type ProxyKerberos = proxyNegotiate.ProxyKerberos

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends TlsOptions, ProxyOptions {
  /** Default 10 seconds. */
  readonly connectTimeout?: Duration.DurationInput
  /** For each response of the handshake. Default 60 seconds. */
  readonly responseTimeout?: Duration.DurationInput
  /** The scheme to send the NEGOTIATE under first. Default "NTLM". */
  readonly scheme?: Scheme
  /** Send MsvAvTargetName "HTTP/<host>" (default true). */
  readonly sendTargetName?: boolean
  /** The most of an answer read (the rest is read and dropped, and the call fails). Default 1 MiB, the cap `VedAuth` holds every answer to. */
  readonly maxBodyBytes?: number
  /** Called after each completed handshake with its round trips and sockets. */
  readonly onHandshake?: (stats: Stats) => void
}

/**
 * Resolves the TLS settings once: reads `caFile` (a `TransportError` if it cannot) and returns the
 * options with every extra CA in `ca`, other fields unchanged. Pass the result to `make`/`layer`,
 * to `agentOptions`, or to another runtime's client, and they all trust the same certificates.
 *
 * @since 0.1.0
 * @category tls
 */
export const tlsOptions = <O extends TlsOptions>(options: O): Effect.Effect<ResolvedTls<O>, TransportError> =>
  tls.resolve(options).pipe(Effect.withSpan("NodeNtlmTransport.tlsOptions"))

/**
 * `node:https` agent options for resolved TLS settings: verification on, Node's bundled roots plus
 * the extra CAs, and the client certificate (its key unwrapped from `Redacted` here, for the agent
 * only), as one `secureContext` built on the first call and returned again for the same value, so
 * that connections do not each parse the roots anew. Empty when there is nothing to add.
 *
 * @since 0.1.0
 * @category tls
 */
export const agentOptions: (tls: ResolvedTls) => Https.AgentOptions = tls.agentOptions

/**
 * The transport as a value, for callers that build their own layers.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<NtlmTransportModule.Service, TransportError> = Effect.fn(
  "NodeNtlmTransport.make"
)(function*(options: Options = {}) {
  const resolved = yield* tlsOptions(options)
  const routes = yield* resolveRoutes(options)
  const connectTimeout = Duration.decode(options.connectTimeout ?? Duration.seconds(10))
  const negotiate = proxyNegotiate.forOptions(options, routes, yield* proxyNegotiate.services)
  // Through a proxy, the agent's one connection is a tunnel: NEGOTIATE, AUTHENTICATE and the body all travel in it.
  const routed = <A extends Http.Agent>(agent: A, secure: boolean): A =>
    isDirect(routes) ? agent : routeAgent(agent, routes, secure, Duration.toMillis(connectTimeout), negotiate)
  const settings = {
    // A new agent per handshake (NTLM authenticates a connection), on the layer's one secure context.
    makeAgent: (url: URL): Effect.Effect<Http.Agent, TransportError> =>
      url.protocol === "https:"
        ? Effect.map(tls.loadAgentOptions(resolved), (agent) =>
          routed(new Https.Agent({ ...agent, keepAlive: true, maxSockets: 1 }), true))
        : Effect.sync(() =>
          routed(new Http.Agent({ keepAlive: true, maxSockets: 1 }), false)
        ),
    connectTimeout,
    responseTimeout: Duration.decode(options.responseTimeout ?? Duration.seconds(60)),
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
    scheme: options.scheme ?? "NTLM",
    sendTargetName: options.sendTargetName ?? true,
    schemeCache: new Map<string, Scheme>(),
    onHandshake: options.onHandshake
  }
  return NtlmTransport.of({
    // No stack trace for the span: it would point at this line on every call, at the cost of an Error.
    request: (request) =>
      handshake(settings, request).pipe(Effect.withSpan("NodeNtlmTransport.request", { captureStackTrace: false })),
    // Each round trip's one timer also watches the request's deadline: no racing fiber needed.
    enforcesTimeout: true
  })
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<NtlmTransport, TransportError> =>
  Layer.effect(NtlmTransport, make(options))

/**
 * The options that can come from configuration (functions cannot).
 *
 * @since 0.1.0
 * @category models
 */
export interface ConfigOptions {
  readonly caFile: Option.Option<string>
  readonly allowUnverifiedTls: boolean
  readonly connectTimeout: Option.Option<Duration.Duration>
  readonly responseTimeout: Option.Option<Duration.Duration>
  readonly clientCert: Option.Option<string>
  readonly clientKey: Option.Option<string>
  /** `VEDAUTH_PROXY`; absent counts as not set. */
  readonly proxy?: Option.Option<Redacted.Redacted<string>>
  /** `VEDAUTH_NO_PROXY`; absent counts as not set. */
  readonly noProxy?: Option.Option<string>
}

/**
 * Reads `VEDAUTH_CA_FILE`, `VEDAUTH_CONNECT_TIMEOUT`, `VEDAUTH_RESPONSE_TIMEOUT` (e.g. "10 seconds"),
 * `VEDAUTH_ALLOW_UNVERIFIED_TLS` (`1`: see `allowUnverifiedTls`), and the client certificate's
 * PEM files `VEDAUTH_CLIENT_CERT` and `VEDAUTH_CLIENT_KEY` (both, or neither is used), and the proxy:
 * `VEDAUTH_PROXY` (a URL; it wins over `HTTPS_PROXY`) and `VEDAUTH_NO_PROXY` (wins over `NO_PROXY`).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<ConfigOptions> = Config.all({
  caFile: Config.option(Config.string("VEDAUTH_CA_FILE")),
  allowUnverifiedTls: Config.withDefault(Config.boolean("VEDAUTH_ALLOW_UNVERIFIED_TLS"), false),
  connectTimeout: Config.option(Config.duration("VEDAUTH_CONNECT_TIMEOUT")),
  responseTimeout: Config.option(Config.duration("VEDAUTH_RESPONSE_TIMEOUT")),
  clientCert: Config.option(Config.nonEmptyString("VEDAUTH_CLIENT_CERT")),
  clientKey: Config.option(Config.nonEmptyString("VEDAUTH_CLIENT_KEY")),
  proxy: Config.option(Config.redacted(Config.nonEmptyString("VEDAUTH_PROXY"))),
  noProxy: Config.option(Config.string("VEDAUTH_NO_PROXY"))
})

const present = <K extends string, A>(key: K, value: Option.Option<A>): { readonly [P in K]?: A } =>
  Option.match(value, { onNone: () => ({}), onSome: (a) => ({ [key]: a }) as { readonly [P in K]: A } })

/**
 * Configuration values as transport options, leaving out what is not configured (so that the
 * defaults apply). Shared by every layer that reads `config`, on Node and on Deno.
 *
 * @since 0.1.0
 * @category config
 */
export const fromConfig = (c: ConfigOptions): Options => ({
  ...present("caFile", c.caFile),
  ...(c.allowUnverifiedTls ? { allowUnverifiedTls: true } : {}),
  ...present("connectTimeout", c.connectTimeout),
  ...present("responseTimeout", c.responseTimeout),
  ...present("clientCertificateFiles", Option.all({ cert: c.clientCert, key: c.clientKey })),
  ...present("proxy", c.proxy ?? Option.none<Redacted.Redacted<string>>()),
  ...present("noProxy", c.noProxy ?? Option.none<string>())
})

/**
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<ConfigOptions> = config
): Layer.Layer<NtlmTransport, TransportError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(options, (c) => layer(fromConfig(c))))
