/**
 * A local stand-in for Venafi TPP's token service (VEDauth) behind IIS Windows authentication.
 * One handler, two ways to run it: on real sockets (`serve`, `layerServer`, `start`) and in memory
 * (`layerTest`: Simulator + an `NtlmTransport` + an `HttpClient` that route to the handler).
 *
 * Defaults (each can be overridden in `Options`):
 * - user `CORP\alice`, password `Passw0rd!`, identity `AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}`
 * - integration `vedauth-demo`, allowed scope `certificate:manage,revoke;configuration:manage`,
 *   refresh on, access token 1 hour, grant (`refresh_until`) 1 day, integrated and password grants
 * - schemes `Negotiate` and `NTLM`; channel bindings required over TLS; request bodies up to 64 KiB
 * - served over HTTPS on 127.0.0.1, port 0, with a self-signed certificate made at start-up
 *
 * Time comes from Effect's `Clock`: under `TestClock`, tokens and grants expire when the test says.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import { HttpClient as HttpClientTag } from "@effect/platform"
import { KdcTransport, NtlmTransport } from "@vedauth/core"
import type { Duration, Scope } from "effect"
import { Context, Effect, Exit, Layer, Redacted, Schema, Scope as EffectScope } from "effect"
import { generateClient } from "./internal/certificate.js"
import type * as Internal from "./internal/context.js"
import type * as Http from "./internal/http.js"
import type * as Kerberos from "./internal/kerberos.js"
import * as memory from "./internal/memory.js"
import * as server from "./internal/server.js"
import * as internal from "./internal/simulator.js"

/**
 * A user the server knows. `domain` defaults to the server's default domain (`CORP`); `identity`
 * defaults to a stable `AD+<domain>:{guid}` derived from the name. `unmappableIdentity` makes
 * authorize answer 401 "Unhandled identity claim type"; `grantFailure` makes it answer 401
 * "Failed to issue grant: <grantFailure>".
 *
 * @since 0.1.0
 * @category models
 */
export type UserOptions = internal.UserOptions

/**
 * An API integration. `users` (`DOMAIN\name`, or a bare name in the default domain) limits who may
 * use it (others get `unauthorized_client`); `grantTypes` lists the enabled authorize endpoints
 * (others get `invalid_client`).
 *
 * @since 0.1.0
 * @category models
 */
export type IntegrationOptions = internal.IntegrationOptions

/**
 * @since 0.1.0
 * @category models
 */
export type Options = internal.Options

/**
 * Kerberos in the simulator: a realm (default `CORP.EXAMPLE`) whose minimal KDC knows every
 * configured user (keys from their passwords) and the server's `HTTP/<host>` principals (default
 * hosts `localhost` and `tpp.corp.example`; random keys, in `Service.kerberos.serviceKeytab`), and
 * an acceptor for `Negotiate` that checks the AP-REQ (replay cache, clock skew, channel bindings
 * over TLS when `channelBindings` is "required") and answers the AP-REP.
 *
 * @since 0.2.0
 * @category models
 */
export type KerberosOptions = Kerberos.KerberosOptions

/**
 * Faults to inject, all off by default; change them at run time with `setFaults`.
 *
 * @since 0.1.0
 * @category models
 */
export type Faults = Internal.Faults

/**
 * A request as the handler sees it (header names lower case).
 *
 * @since 0.1.0
 * @category models
 */
export type Request = Http.SimRequest

/**
 * The handler's answer. `connection: "close" | "drop"` asks the transport to close the connection
 * after answering, or without answering.
 *
 * @since 0.1.0
 * @category models
 */
export type Response = Http.SimResponse

/**
 * One client connection: Windows authentication state lives here, as it does in IIS.
 *
 * @since 0.1.0
 * @category models
 */
export type Connection = Internal.Connection

/**
 * Counters for tests and benchmarks.
 *
 * @since 0.1.0
 * @category models
 */
export type Stats = internal.Stats

/**
 * A grant the server holds, with its tokens kept `Redacted`.
 *
 * @since 0.1.0
 * @category models
 */
export type LiveGrant = internal.LiveGrant

/**
 * @since 0.1.0
 * @category models
 */
export interface Service extends internal.Service {}

/**
 * @since 0.1.0
 * @category tags
 */
export class Simulator extends Context.Tag("@vedauth/testing/Simulator")<Simulator, Service>() {}

/**
 * Where a served simulator listens. Over HTTPS, `caPem` is the throwaway CA that issued the server's
 * certificate (give it to clients to trust); `certificateDer` is the certificate the server presents,
 * which channel bindings are computed from.
 *
 * @since 0.1.0
 * @category models
 */
export interface Served {
  readonly url: string
  readonly port: number
  readonly caPem: string | undefined
  readonly certificateDer: Uint8Array | undefined
  /** With `kerberos`: the simulator's KDC, `host:port` on loopback (TCP). */
  readonly kdc: string | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Server extends Context.Tag("@vedauth/testing/Simulator/Server")<Server, Served>() {}

/**
 * @since 0.1.0
 * @category models
 */
export interface ServeOptions extends Options {
  /** Default `https`. */
  readonly protocol?: "http" | "https"
  /** Loopback only. Default `127.0.0.1`. */
  readonly host?: "127.0.0.1" | "::1"
  /** Default 0: a free port. */
  readonly port?: number
  /** Write the CA certificate PEM to this file, for clients such as curl (`--cacert`) or `--ca-file`. */
  readonly caPemPath?: string
  /**
   * CA certificates (PEM) whose client certificates the server accepts (mutual TLS, for the
   * certificate grant): with it the server asks every TLS client for a certificate, verifies the
   * one given, and the certificate grant maps its CN or SAN to a user. Without it none is asked for.
   */
  readonly clientCa?: string | ReadonlyArray<string>
  /** Close a connection whose request line and headers are not all in after this long (default 10 s). */
  readonly headersTimeout?: Duration.DurationInput
  /** Close a connection whose whole request is not in after this long (default 30 s). */
  readonly requestTimeout?: Duration.DurationInput
  /** Close an idle kept-alive connection after this long (default 5 s). */
  readonly keepAliveTimeout?: Duration.DurationInput
}

/**
 * The server could not start (port in use, certificate, writing the PEM).
 *
 * @since 0.1.0
 * @category errors
 */
export class ServeError extends Schema.TaggedError<ServeError>("@vedauth/testing/ServeError")("ServeError", {
  detail: Schema.String
}) {}

/**
 * A new simulator, in memory.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Service> = Effect.fn("Simulator.make")(
  function*(options?: Options) {
    return yield* internal.make(options)
  }
)

/**
 * Serves an existing simulator on loopback until the scope closes.
 *
 * @since 0.1.0
 * @category servers
 */
export const listen: (simulator: Service, options?: ServeOptions) => Effect.Effect<Served, ServeError, Scope.Scope> =
  Effect.fn(
    "Simulator.listen"
  )(function*(simulator: Service, options?: ServeOptions) {
    return yield* Effect.mapError(
      server.serve(simulator, options),
      (failure) => new ServeError({ detail: failure.detail })
    )
  })

/**
 * Makes a simulator and serves it until the scope closes.
 *
 * @since 0.1.0
 * @category servers
 */
export const serve: (
  options?: ServeOptions
) => Effect.Effect<Served & { readonly simulator: Service }, ServeError, Scope.Scope> = Effect
  .fn("Simulator.serve")(function*(options?: ServeOptions) {
    const simulator = yield* internal.make(options)
    const served = yield* listen(simulator, options)
    return { ...served, simulator }
  })

/**
 * For plain scripts: starts a served simulator and returns a `close` to stop it.
 *
 * @since 0.1.0
 * @category servers
 */
export const start = async (
  options?: ServeOptions
): Promise<Served & { readonly simulator: Service; readonly close: () => Promise<void> }> => {
  const scope = Effect.runSync(EffectScope.make())
  const served = await Effect.runPromise(EffectScope.extend(serve(options), scope)).catch(async (error: unknown) => {
    await Effect.runPromise(EffectScope.close(scope, Exit.void))
    throw error
  })
  return { ...served, close: () => Effect.runPromise(EffectScope.close(scope, Exit.void)) }
}

/**
 * Changes the faults at run time.
 *
 * @since 0.1.0
 * @category faults
 */
export const setFaults = (faults: Faults): Effect.Effect<void, never, Simulator> =>
  Effect.flatMap(Simulator, (simulator) => simulator.setFaults(faults))

/**
 * @since 0.1.0
 * @category inspection
 */
export const stats: Effect.Effect<Stats, never, Simulator> = Effect.flatMap(Simulator, (simulator) => simulator.stats)

/**
 * @since 0.1.0
 * @category inspection
 */
export const grants: Effect.Effect<ReadonlyArray<LiveGrant>, never, Simulator> = Effect.flatMap(
  Simulator,
  (simulator) => simulator.grants
)

/**
 * The simulator, in memory.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<Simulator> => Layer.effect(Simulator, make(options))

/**
 * The simulator served on loopback for the layer's lifetime.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServer = (options?: ServeOptions): Layer.Layer<Simulator | Server, ServeError> =>
  Layer.scopedContext(
    Effect.map(serve(options), ({ simulator, ...served }) =>
      Context.make(Simulator, simulator).pipe(Context.add(Server, served)))
  )

/**
 * An `NtlmTransport` that runs core's real NTLM client against the simulator in memory.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerNtlmTransport: Layer.Layer<NtlmTransport.NtlmTransport, never, Simulator> = Layer.effect(
  NtlmTransport.NtlmTransport,
  Effect.map(Simulator, memory.ntlmTransport)
)

/**
 * An `HttpClient` that sends every request to the simulator in memory (no sockets; any host).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClient: Layer.Layer<HttpClient.HttpClient, never, Simulator> = Layer.effect(
  HttpClientTag.HttpClient,
  Effect.map(Simulator, (simulator) => memory.httpClient(simulator))
)

/**
 * A `KdcTransport` that hands every message to the simulator's KDC in memory (any KDC address);
 * without `kerberos` in the simulator's options no KDC answers.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerKdcTransport: Layer.Layer<KdcTransport.KdcTransport, never, Simulator> = Layer.unwrapEffect(
  Effect.map(
    Simulator,
    (simulator) =>
      simulator.kerberos === undefined ? KdcTransport.layerUnreachable : KdcTransport.layerKdc(simulator.kerberos.kdc)
  )
)

/**
 * What a client certificate says about its holder: the subject's CN and the subject alternative
 * names (without their `DNS:`/`email:` prefixes). The certificate grant maps either to a user.
 *
 * @since 0.1.0
 * @category models
 */
export type ClientCertificateInfo = Internal.ClientCertificateInfo

/**
 * The in-memory `HttpClient` on connections that presented this client certificate, as a verified
 * mutual-TLS connection does (for the certificate grant without sockets).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerHttpClientPresenting = (
  certificate: ClientCertificateInfo
): Layer.Layer<HttpClient.HttpClient, never, Simulator> =>
  Layer.effect(
    HttpClientTag.HttpClient,
    Effect.map(Simulator, (simulator) => memory.httpClient(simulator, certificate))
  )

/**
 * Simulator + NtlmTransport + KdcTransport + HttpClient, all in memory: what library tests need.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerTest = (
  options?: Options
): Layer.Layer<Simulator | NtlmTransport.NtlmTransport | KdcTransport.KdcTransport | HttpClient.HttpClient> =>
  Layer.provideMerge(Layer.mergeAll(layerNtlmTransport, layerKdcTransport, layerHttpClient), layer(options))

/**
 * A throwaway client CA and a client certificate it issued for `commonName` (ECDSA P-256, valid for
 * 30 days), for trying the certificate grant: give `caPem` to `serve` as `clientCa`, and the
 * certificate and its key (PKCS#8 PEM, `Redacted`) to the client. The simulator maps the CN to a
 * user (`alice` is the default user).
 *
 * @since 0.1.0
 * @category certificates
 */
export const generateClientCertificate = (
  commonName: string
): Effect.Effect<
  { readonly caPem: string; readonly certPem: string; readonly keyPem: Redacted.Redacted<string> },
  ServeError
> =>
  Effect.tryPromise({
    try: () => generateClient(commonName, Date.now()),
    catch: (error) => new ServeError({ detail: `could not generate the client certificate: ${String(error)}` })
  }).pipe(Effect.map(({ caPem, certPem, keyPem }) => ({ caPem, certPem, keyPem: Redacted.make(keyPem) })))

/**
 * The default user's credentials, for tests and demos (`CORP\alice` / `Passw0rd!`).
 *
 * @since 0.1.0
 * @category constants
 */
export const defaultCredentials: {
  readonly domain: string
  readonly username: string
  readonly password: Redacted.Redacted<string>
} = {
  domain: "CORP",
  username: "alice",
  password: internal.resolve().users[0]!.password
}

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultClientId = "vedauth-demo"

/**
 * @since 0.1.0
 * @category constants
 */
export const defaultScope = "certificate:manage,revoke;configuration:manage"

/**
 * A `krb5.conf` that points MIT's tools (`kinit`, `curl --negotiate`, GSSAPI) at a served
 * simulator's KDC (`Served.kdc`, or any `host:port` relaying to it) over TCP, with `hosts` (default
 * `localhost`) in the realm: no DNS look-ups, no reverse resolution.
 *
 * @since 0.2.0
 * @category kerberos
 */
export const krb5Conf = (
  kdc: string,
  options: { readonly realm?: string; readonly hosts?: ReadonlyArray<string> } = {}
): string => {
  const realm = options.realm ?? "CORP.EXAMPLE"
  return [
    "[libdefaults]",
    `  default_realm = ${realm}`,
    "  dns_lookup_kdc = false",
    "  dns_lookup_realm = false",
    "  rdns = false",
    "  dns_canonicalize_hostname = false",
    // The simulator's KDC speaks TCP only.
    "  udp_preference_limit = 1",
    "[realms]",
    `  ${realm} = {\n    kdc = ${kdc}\n  }`,
    "[domain_realm]",
    ...(options.hosts ?? ["localhost"]).map((host) => `  ${host} = ${realm}`),
    ""
  ].join("\n")
}
