/**
 * The VEDauth flows as typed effects, and the managed token.
 *
 * Programs use the module functions (`VedAuth.accessToken`, `VedAuth.authorize(...)`) and provide
 * `VedAuth.layer(options)` or `VedAuth.layerConfig()` together with an `HttpClient`, an
 * `NtlmTransport` and a `TokenStore`.
 *
 * @since 0.1.0
 */
import type { HttpClientError } from "@effect/platform"
import { HttpClient } from "@effect/platform"
import type { Duration, Scope } from "effect"
import { Config, ConfigError, Context, Data, Effect, Either, Layer, Option, Redacted } from "effect"
import * as Credentials from "./Credentials.js"
import type { Grant } from "./Grant.js"
import * as internal from "./internal/vedAuth.js"
import { parseAddress } from "./KdcTransport.js"
import type { NtlmTransport } from "./NtlmTransport.js"
import type { TokenInfo } from "./TokenInfo.js"
import type { TokenStore } from "./TokenStore.js"
import type * as VedAuthError from "./VedAuthError.js"

/**
 * How to reach the server and whom to authorize as.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Base URL of the TPP server, e.g. `https://tpp.example.com` (VEDauth is under `/vedauth/`). */
  readonly url: string
  /** The API integration's Application ID. */
  readonly clientId: string
  /** The scope to request, e.g. `certificate:manage,revoke;configuration`. */
  readonly scope: string
  /**
   * How to authorize (`VEDAUTH_GRANT`): `Credentials.integrated` (the default), `password`,
   * `certificate`, `jwtFile(path)` / `jwt(effect)`, or `device(prompt)`. The managed token
   * re-authorizes the same way when the grant ends.
   */
  readonly credentials?: Credentials.Credentials
  /** `DOMAIN\user` or `user@domain`: the Windows account of the integrated grant, the user of the password grant. */
  readonly username?: string
  /**
   * The Windows password, or an effect that yields it: it runs only when an authorize needs it
   * (e.g. a prompt, or a vault look-up), never while a stored grant is still good, at most once
   * per layer once it succeeds, and never while holding the token store's lock.
   */
  readonly password?:
    | Redacted.Redacted<string>
    | Effect.Effect<Redacted.Redacted<string>, VedAuthError.AuthenticationFailed>
  /**
   * Refresh when less than this is left of the access token (default: 10% of its lifetime, at
   * most 5 minutes and at least 30 seconds), so callers never hold a token about to expire.
   */
  readonly refreshWindow?: Duration.DurationInput
  /**
   * The longest any one call to the server may take, answer read whole, before it fails with a
   * `TransportError` (default 30 seconds). A refresh runs while holding the token store's lock:
   * keep this below the lock's stale time (`TokenStore.FileSystemOptions.staleAfter`, 30 seconds by
   * default) so that a stalled server is given up on before another process could judge the lock
   * abandoned.
   */
  readonly requestTimeout?: Duration.DurationInput
  /**
   * Allow plain `http://` to a host other than loopback (`VEDAUTH_ALLOW_HTTP=1`): passwords and
   * tokens then travel unencrypted, and the layer logs a warning. Without it such a URL fails the
   * layer with a `TransportError`; `http://` to 127.0.0.0/8, `::1` or `localhost` is always allowed.
   */
  readonly allowHttp?: boolean
  /**
   * How authorize authenticates: `"negotiate"` (the default) uses Kerberos when `kerberos` is given
   * and a ticket can be had (else NTLM, also when the server offers only NTLM), `"kerberos"` only
   * Kerberos, `"ntlm"` only NTLM (inside `Negotiate` or `NTLM`, whichever the server offers).
   */
  readonly mechanism?: Mechanism
  /** Kerberos settings; their presence is what lets `"negotiate"` try Kerberos. */
  readonly kerberos?: KerberosOptions
}

/**
 * @since 0.2.0
 * @category models
 */
export type Mechanism = "negotiate" | "kerberos" | "ntlm"

/**
 * Where Kerberos finds its realm, KDC and key. The user is `username` (`user@REALM`, `REALM\user`),
 * optional with a credential cache or a one-principal keytab; the key comes from the keytab, else
 * the password, else the credential cache's tickets alone. A keytab, credential cache or krb5.conf
 * is read through the hardened reader (`LocalFiles`: `TokenStoreFiles` in the layer's context) and
 * the KDC reached through a `KdcTransport` (`NodeVedAuth` provides both).
 *
 * @since 0.2.0
 * @category models
 */
export interface KerberosOptions {
  /** The user's realm when `username` names none; else krb5.conf `default_realm`. */
  readonly realm?: string
  /** KDC addresses `host[:port]`; else krb5.conf `[realms]`, else DNS SRV `_kerberos._tcp.REALM`. */
  readonly kdc?: string | ReadonlyArray<string>
  /** The server's SPN; default `HTTP/<host of url>` (an IP address is an error). */
  readonly spn?: string
  /** An MIT keytab file holding the user's keys (MIT's `KRB5_CLIENT_KTNAME`): no password needed. */
  readonly keytab?: string
  /**
   * An MIT `FILE:` credential cache, or a `KCM:` one (`KRB5CCNAME`; `KCM:` alone is the daemon's
   * default cache): its tickets are used while valid, new ones written back.
   */
  readonly cache?: string
  /**
   * The operating system's own Kerberos makes the token (`SystemKerberos`, e.g. `NodeSystemKerberos`
   * over the optional `kerberos` addon): its default credential cache (`KCM:` and `KEYRING:` too)
   * or client keytab, or the logged-on Windows user; no password. `realm`, `kdc`, `keytab` and
   * `cache` are then the system's business (krb5.conf, `KRB5CCNAME`, `KRB5_CLIENT_KTNAME`). It
   * sends no TLS channel bindings: a server with Extended Protection set to Require refuses it.
   */
  readonly system?: boolean
}

/**
 * Overrides for one authorize call.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizeRequest {
  readonly clientId?: string
  readonly scope?: string
  /** CSRF state; if the server echoes a different `state`, the grant is rejected. */
  readonly state?: string
}

/**
 * The outcome of a revoke: both are answers, not failures.
 *
 * @since 0.1.0
 * @category models
 */
export type RevokeResult = Data.TaggedEnum<{
  /** 200: the grant (access and refresh token) is dead. */
  Revoked: { readonly reason: string }
  /** 202: the server did not know the token (already revoked or expired). */
  NotFound: { readonly reason: string }
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const RevokeResult = Data.taggedEnum<RevokeResult>()

/**
 * Errors of the authorize call.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthorizeError =
  | VedAuthError.InvalidClient
  | VedAuthError.InvalidRequest
  | VedAuthError.InvalidScope
  | VedAuthError.InvalidGrant
  | VedAuthError.UnauthorizedClient
  | VedAuthError.GrantIssueFailed
  | VedAuthError.UnhandledIdentityClaim
  | VedAuthError.AuthenticationFailed
  | VedAuthError.NtlmProtocolError
  | VedAuthError.KerberosError
  | VedAuthError.TransportError
  | VedAuthError.UnexpectedResponse

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly options: Options
  /** Authorizes with the configured grant (`credentials`; integrated through `NtlmTransport` by default). Does not touch the store. */
  readonly authorize: (request?: AuthorizeRequest) => Effect.Effect<Grant, AuthorizeError>
  /** POST vedauth/authorize/token. The new pair replaces the old one in the store before it is returned; a spent refresh token is never retried. */
  readonly refresh: (grant: Grant) => Effect.Effect<Grant, VedAuthError.VedAuthError>
  /** GET vedauth/authorize/verify. */
  readonly verify: (token: Redacted.Redacted<string>) => Effect.Effect<TokenInfo, VedAuthError.VedAuthError>
  /** GET vedauth/revoke/token; removes the grant from the store when it is the stored one. */
  readonly revoke: (grant: Grant | Redacted.Redacted<string>) => Effect.Effect<RevokeResult, VedAuthError.VedAuthError>
  /** GET vedauth/authorize/isAuthServer. */
  readonly isAuthServer: Effect.Effect<boolean, VedAuthError.TransportError | VedAuthError.UnexpectedResponse>
  /** The grant in the store for these options, as it is (no refresh, no request). */
  readonly stored: Effect.Effect<Option.Option<Grant>, VedAuthError.TokenStoreError>
  /** Authorizes now and makes the new grant the managed one (stored), whatever the store held. */
  readonly login: Effect.Effect<Grant, VedAuthError.VedAuthError>
  /** The managed grant: stored, refreshed ahead of expiry once however many fibers ask, re-authorized when the grant ends. */
  readonly grant: Effect.Effect<Grant, VedAuthError.VedAuthError>
  /** The managed grant's access token. */
  readonly accessToken: Effect.Effect<Redacted.Redacted<string>, VedAuthError.VedAuthError>
  /** A fresh grant for the life of a scope, revoked when the scope closes. */
  readonly session: Effect.Effect<Grant, VedAuthError.VedAuthError, Scope.Scope>
  /**
   * Wraps a client: adds the bearer token, refreshes once and retries once on a 401, turns a 403
   * into `InsufficientScope` with the rejected scope parsed.
   */
  readonly httpClient: <E, R>(
    client: HttpClient.HttpClient.With<E, R>
  ) => HttpClient.HttpClient.With<E | VedAuthError.VedAuthError, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class VedAuth extends Context.Tag("@vedauth/core/VedAuth")<VedAuth, Service>() {}

/**
 * The service, from options. Needs an `HttpClient` (refresh, verify, revoke), an `NtlmTransport`
 * (authorize) and a `TokenStore` (the managed grant). Scoped: closing the layer (e.g. on SIGINT)
 * interrupts a renewal in progress, which releases the token store's lock. Options it cannot work
 * with (a URL that does not parse, carries a user name or password, or is plain `http://` to a host
 * other than loopback without `allowHttp`) fail the layer with a `TransportError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<VedAuth, VedAuthError.TransportError, HttpClient.HttpClient | NtlmTransport | TokenStore> =>
  Layer.scoped(VedAuth, internal.make(options))

// The device flow's prompt when configured from the environment: a line on the log (the CLI shows its own).
const logDevicePrompt = (prompt: Credentials.DevicePrompt) =>
  Effect.logInfo(`vedauth: to authorize, visit ${prompt.verificationUri} and enter the code ${prompt.userCode}`)

/**
 * The grant from `VEDAUTH_GRANT` (integrated, password, certificate, jwt, device; default integrated),
 * the JWT file from `VEDAUTH_JWT_FILE` (required with `jwt`). The client certificate of the
 * certificate grant is the platform's TLS setting (`VEDAUTH_CLIENT_CERT`, `VEDAUTH_CLIENT_KEY`).
 *
 * @since 0.1.0
 * @category config
 */
export const credentialsConfig: Config.Config<Credentials.Credentials> = Config.mapOrFail(
  Config.all({
    grant: Config.withDefault(Config.literal(...Credentials.grantNames)("VEDAUTH_GRANT"), "integrated" as const),
    jwtFile: Config.option(Config.nonEmptyString("VEDAUTH_JWT_FILE"))
  }),
  ({ grant, jwtFile }): Either.Either<Credentials.Credentials, ConfigError.ConfigError> => {
    switch (grant) {
      case "integrated":
        return Either.right(Credentials.integrated)
      case "password":
        return Either.right(Credentials.password)
      case "certificate":
        return Either.right(Credentials.certificate)
      case "jwt":
        return Option.match(jwtFile, {
          onNone: () =>
            Either.left(
              ConfigError.MissingData(
                ["VEDAUTH_JWT_FILE"],
                "VEDAUTH_GRANT=jwt needs the JWT's file in VEDAUTH_JWT_FILE"
              )
            ),
          onSome: (file) => Either.right(Credentials.jwtFile(file))
        })
      case "device":
        return Either.right(Credentials.device(logDevicePrompt))
    }
  }
)

/**
 * The Kerberos settings as text, as they come from the environment or a command line: `kdc` may
 * list several addresses separated by commas; `keytab` and `cache` are MIT names (`FILE:/path` or a
 * plain path, as in `KRB5_CLIENT_KTNAME` and `KRB5CCNAME`).
 *
 * @since 0.2.0
 * @category models
 */
export interface KerberosText {
  readonly mechanism?: string | undefined
  readonly realm?: string | undefined
  readonly kdc?: string | undefined
  readonly spn?: string | undefined
  readonly keytab?: string | undefined
  readonly cache?: string | undefined
}

/**
 * Why `KerberosText` could not be used: the setting at fault and a sentence that says what to do.
 *
 * @since 0.2.0
 * @category models
 */
export interface KerberosTextProblem {
  readonly setting: keyof KerberosText
  readonly detail: string
}

const isKcm = (name: string): boolean => /^KCM:/i.test(name)

const mechanisms: ReadonlyArray<Mechanism> = ["negotiate", "kerberos", "ntlm"]

const present = (
  text: string | undefined
): string | undefined => (text === undefined || text.trim() === "" ? undefined : text.trim())

// MIT names a keytab or cache `TYPE:residual`; a name without a type is a file. Only files (and a
// cache in KCM, kept as its name) can be read here.
const mitFile = (setting: "keytab" | "cache", name: string): Either.Either<string, KerberosTextProblem> => {
  if (setting === "cache" && isKcm(name)) return Either.right(name)
  const typed = /^([A-Za-z][A-Za-z0-9]*):(.*)$/.exec(name)
  const path = typed === null ? name : typed[1]!.toUpperCase() === "FILE" ? typed[2]! : undefined
  if (path !== undefined && path !== "") return Either.right(path)
  const what = setting === "cache" ? "credential cache" : "keytab"
  const kind = typed === null || path === "" ? "an empty FILE:" : `a ${typed[1]!.toUpperCase()}:`
  const fix = setting === "cache"
    ? "point it at a FILE: cache (kinit -c FILE:/path/to/ccache), or unset it to authorize with a keytab or password, or use the system's Kerberos (kerberos: { system: true }, NodeSystemKerberos), or choose the negotiate or ntlm mechanism"
    : "point it at a keytab file (FILE:/path/to/keytab, e.g. written by ktutil or kadmin ktadd), or unset it"
  return Either.left({
    setting,
    detail: `'${name}' is ${kind} ${what}, and vedauth reads only FILE:${
      setting === "cache" ? " and KCM:" : ""
    } ${what}s: ${fix}`
  })
}

// A typed MIT name other than FILE: (KCM:, KEYRING:, DIR:, MEMORY:, API:, ...).
const isOtherCacheType = (name: string): boolean => {
  const typed = /^([A-Za-z][A-Za-z0-9]*):/.exec(name)
  return typed !== null && typed[1]!.toUpperCase() !== "FILE" && typed[1]!.toUpperCase() !== "KCM"
}

/**
 * Reads Kerberos settings given as text (the environment variables `VEDAUTH_MECHANISM`,
 * `VEDAUTH_REALM`, `VEDAUTH_KDC`, `VEDAUTH_SPN`, `VEDAUTH_KEYTAB` or `KRB5_CLIENT_KTNAME`,
 * `KRB5CCNAME`, or the `vedauth` command's options) into `Options.mechanism` and
 * `Options.kerberos`. Empty text is no setting. `kerberos` is there when any of its settings is;
 * with the `ntlm` mechanism none is read. A `KCM:` cache is kept as its name (read through a
 * `KcmTransport`). A credential cache of a type vedauth cannot read (`KEYRING:`, `MEMORY:`, `DIR:`,
 * ...) is passed over unless the mechanism is `kerberos`, where it is
 * a problem. A mechanism other than the three, a KDC address that does not parse, an empty `FILE:`
 * name, or a keytab that is not a file is a problem, named.
 *
 * @since 0.2.0
 * @category config
 */
export const kerberosFromText = (
  text: KerberosText
): Either.Either<{ readonly mechanism?: Mechanism; readonly kerberos?: KerberosOptions }, KerberosTextProblem> => {
  const mechanismText = present(text.mechanism)?.toLowerCase()
  const mechanism = mechanisms.find((m) => m === mechanismText)
  if (mechanismText !== undefined && mechanism === undefined) {
    return Either.left({
      setting: "mechanism",
      detail: `'${text.mechanism}' is not a mechanism: negotiate, kerberos or ntlm`
    })
  }
  const chosen = mechanism === undefined ? {} : { mechanism }
  if (mechanism === "ntlm") return Either.right(chosen)
  const kdcs = (present(text.kdc) ?? "").split(",").map((k) => k.trim()).filter((k) => k !== "")
  const badKdc = kdcs.find((k) => parseAddress(k) === undefined)
  if (badKdc !== undefined) {
    return Either.left({ setting: "kdc", detail: `'${badKdc}' is not a KDC address: host, host:port or [ipv6]:port` })
  }
  const keytab = present(text.keytab)
  const named = present(text.cache)
  // Fedora, RHEL and sssd set KRB5CCNAME to a KEYRING: cache (KCM: ones are read) for every
  // login: under negotiate such a cache is passed over (NTLM, a keytab or a password still work), and only an
  // explicit kerberos mechanism makes it a problem.
  const cache = named !== undefined && mechanism !== "kerberos" && isOtherCacheType(named) ? undefined : named
  return Either.gen(function*() {
    const kerberos: KerberosOptions = {
      ...(present(text.realm) === undefined ? {} : { realm: present(text.realm)! }),
      ...(kdcs.length === 0 ? {} : { kdc: kdcs }),
      ...(present(text.spn) === undefined ? {} : { spn: present(text.spn)! }),
      ...(keytab === undefined ? {} : { keytab: yield* mitFile("keytab", keytab) }),
      ...(cache === undefined ? {} : { cache: yield* mitFile("cache", cache) })
    }
    return Object.keys(kerberos).length === 0 ? chosen : { ...chosen, kerberos }
  })
}

const kerberosVariables: Readonly<Record<keyof KerberosText, string>> = {
  mechanism: "VEDAUTH_MECHANISM",
  realm: "VEDAUTH_REALM",
  kdc: "VEDAUTH_KDC",
  spn: "VEDAUTH_SPN",
  keytab: "VEDAUTH_KEYTAB",
  cache: "KRB5CCNAME"
}

const optionalText = (name: string) => Config.option(Config.string(name)).pipe(Config.map(Option.getOrUndefined))

/**
 * `mechanism` and `kerberos` from `VEDAUTH_MECHANISM`, `VEDAUTH_REALM`, `VEDAUTH_KDC` (comma
 * separated), `VEDAUTH_SPN`, `VEDAUTH_KEYTAB` (else MIT's `KRB5_CLIENT_KTNAME`) and MIT's
 * `KRB5CCNAME`, read by `kerberosFromText`. krb5.conf (`KRB5_CONFIG`) is read when a ticket is
 * needed, from the same `ConfigProvider`.
 *
 * @since 0.2.0
 * @category config
 */
export const kerberosConfig: Config.Config<{ readonly mechanism?: Mechanism; readonly kerberos?: KerberosOptions }> =
  Config.mapOrFail(
    Config.all({
      mechanism: optionalText("VEDAUTH_MECHANISM"),
      realm: optionalText("VEDAUTH_REALM"),
      kdc: optionalText("VEDAUTH_KDC"),
      spn: optionalText("VEDAUTH_SPN"),
      ownKeytab: optionalText("VEDAUTH_KEYTAB"),
      mitKeytab: optionalText("KRB5_CLIENT_KTNAME"),
      cache: optionalText("KRB5CCNAME")
    }),
    ({ mitKeytab, ownKeytab, ...text }) => {
      const keytab = present(ownKeytab) ?? mitKeytab
      const variable = (setting: keyof KerberosText) =>
        setting === "keytab" && present(ownKeytab) === undefined ? "KRB5_CLIENT_KTNAME" : kerberosVariables[setting]
      return Either.mapLeft(
        kerberosFromText({ ...text, keytab }),
        (problem) => ConfigError.InvalidData([variable(problem.setting)], problem.detail)
      )
    }
  )

/**
 * Options from the environment: `VEDAUTH_GRANT` and `VEDAUTH_JWT_FILE` (see `credentialsConfig`),
 * the Kerberos settings (see `kerberosConfig`), `VEDAUTH_URL`, `VEDAUTH_CLIENT_ID`, `VEDAUTH_SCOPE`, and the optional
 * `VEDAUTH_USERNAME`, `VEDAUTH_PASSWORD` (redacted; empty is none), `VEDAUTH_REQUEST_TIMEOUT` (a
 * duration such as `10 seconds`) and `VEDAUTH_ALLOW_HTTP` (`1`: allow plain `http://`, see
 * `allowHttp`). The store's path is `TokenStore`'s business (`VEDAUTH_TOKEN_STORE`, read by
 * `TokenStore.layerConfig`).
 *
 * @since 0.1.0
 * @category config
 */
export const config: Config.Config<Options> = Config.map(
  Config.all({
    url: Config.nonEmptyString("VEDAUTH_URL"),
    clientId: Config.nonEmptyString("VEDAUTH_CLIENT_ID"),
    scope: Config.nonEmptyString("VEDAUTH_SCOPE"),
    username: Config.option(Config.nonEmptyString("VEDAUTH_USERNAME")),
    password: Config.option(Config.redacted("VEDAUTH_PASSWORD")),
    requestTimeout: Config.option(Config.duration("VEDAUTH_REQUEST_TIMEOUT")),
    allowHttp: Config.withDefault(Config.boolean("VEDAUTH_ALLOW_HTTP"), false),
    credentials: credentialsConfig,
    kerberos: kerberosConfig
  }),
  ({ allowHttp, clientId, credentials, kerberos, password, requestTimeout, scope, url, username }): Options => ({
    url,
    clientId,
    scope,
    ...(credentials._tag === "Integrated" ? {} : { credentials }),
    ...Option.match(username, { onNone: () => ({}), onSome: (username) => ({ username }) }),
    // An empty VEDAUTH_PASSWORD is no password.
    ...Option.match(Option.filter(password, (p) => Redacted.value(p) !== ""), {
      onNone: () => ({}),
      onSome: (password) => ({ password })
    }),
    ...Option.match(requestTimeout, { onNone: () => ({}), onSome: (requestTimeout) => ({ requestTimeout }) }),
    ...(allowHttp ? { allowHttp } : {}),
    ...kerberos
  })
)

/**
 * The service, with options read from `Config` (default: `config`, the environment variables).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config<Options> = config
): Layer.Layer<
  VedAuth,
  ConfigError.ConfigError | VedAuthError.TransportError,
  HttpClient.HttpClient | NtlmTransport | TokenStore
> => Layer.unwrapEffect(Effect.map(options, layer))

/**
 * Authorizes with the layer's grant (`Options.credentials`: Integrated Windows Authentication by
 * default). Does not touch the store.
 *
 * @since 0.1.0
 * @category flows
 */
export const authorize = (request?: AuthorizeRequest): Effect.Effect<Grant, AuthorizeError, VedAuth> =>
  Effect.flatMap(VedAuth, (service) => service.authorize(request))

/**
 * Exchanges the refresh token for a new pair; the new pair is stored before it is returned when
 * `grant` was the stored one. A spent refresh token fails with `InvalidGrant` and is never retried.
 *
 * @since 0.1.0
 * @category flows
 */
export const refresh = (grant: Grant): Effect.Effect<Grant, VedAuthError.VedAuthError, VedAuth> =>
  Effect.flatMap(VedAuth, (service) => service.refresh(grant))

/**
 * Asks the server what it knows about an access token.
 *
 * @since 0.1.0
 * @category flows
 */
export const verify = (
  token: Redacted.Redacted<string>
): Effect.Effect<TokenInfo, VedAuthError.VedAuthError, VedAuth> =>
  Effect.flatMap(VedAuth, (service) => service.verify(token))

/**
 * Revokes a grant (its access and refresh token). `Revoked` or `NotFound`, both answers.
 *
 * @since 0.1.0
 * @category flows
 */
export const revoke = (
  grant: Grant | Redacted.Redacted<string>
): Effect.Effect<RevokeResult, VedAuthError.VedAuthError, VedAuth> =>
  Effect.flatMap(VedAuth, (service) => service.revoke(grant))

/**
 * True when the server answers as a Venafi Authentication Server.
 *
 * @since 0.1.0
 * @category flows
 */
export const isAuthServer: Effect.Effect<
  boolean,
  VedAuthError.TransportError | VedAuthError.UnexpectedResponse,
  VedAuth
> = Effect.flatMap(VedAuth, (service) => service.isAuthServer)

/**
 * The grant in the store for the layer's options, untouched (no refresh, no request).
 *
 * @since 0.1.0
 * @category managed
 */
export const stored: Effect.Effect<Option.Option<Grant>, VedAuthError.TokenStoreError, VedAuth> = Effect.flatMap(
  VedAuth,
  (service) => service.stored
)

/**
 * Authorizes now and stores the new grant as the managed one, replacing whatever was stored.
 *
 * @since 0.1.0
 * @category managed
 */
export const login: Effect.Effect<Grant, VedAuthError.VedAuthError, VedAuth> = Effect.flatMap(
  VedAuth,
  (service) => service.login
)

/**
 * The managed grant: from the store while fresh, refreshed once however many fibers ask, authorized
 * again when the grant has ended or its refresh token is spent.
 *
 * @since 0.1.0
 * @category managed
 */
export const grant: Effect.Effect<Grant, VedAuthError.VedAuthError, VedAuth> = Effect.flatMap(
  VedAuth,
  (service) => service.grant
)

/**
 * The managed grant's access token.
 *
 * @since 0.1.0
 * @category managed
 */
export const accessToken: Effect.Effect<Redacted.Redacted<string>, VedAuthError.VedAuthError, VedAuth> = Effect.flatMap(
  VedAuth,
  (service) => service.accessToken
)

/**
 * A grant of its own for the life of the scope, revoked when the scope closes.
 *
 * @since 0.1.0
 * @category managed
 */
export const session: Effect.Effect<Grant, VedAuthError.VedAuthError, VedAuth | Scope.Scope> = Effect.flatMap(
  VedAuth,
  (service) => service.session
)

/**
 * The `HttpClient` in context, wrapped so that every request carries the managed bearer token.
 *
 * @since 0.1.0
 * @category managed
 */
export const httpClient: Effect.Effect<
  HttpClient.HttpClient.With<HttpClientError.HttpClientError | VedAuthError.VedAuthError>,
  never,
  VedAuth | HttpClient.HttpClient
> = Effect.gen(function*() {
  const service = yield* VedAuth
  const client = yield* HttpClient.HttpClient
  return service.httpClient(client)
})
