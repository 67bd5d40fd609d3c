import type { Duration } from "effect"
import { Clock, DateTime, Effect, Option, Redacted, Ref } from "effect"
import type { GrantType, IntegrationConfig, ResolvedConfig, SchemeName, UserConfig } from "./config.js"
import { defaultIntegration, defaultUser, identityFor, userKey } from "./config.js"
import type { Connection, Faults, HandlerContext, TlsInfo } from "./context.js"
import { answerDevice } from "./device.js"
import { handle } from "./handler.js"
import type { SimRequest, SimResponse } from "./http.js"
import { generateIssuer, importIssuer, sign } from "./jwt.js"
import { type KerberosOptions, type KerberosRealm, makeRealm } from "./kerberos.js"
import { State } from "./state.js"

/** @internal */
export interface UserOptions {
  readonly domain?: string
  readonly name: string
  readonly password: Redacted.Redacted<string>
  readonly identity?: string
  readonly unmappableIdentity?: boolean
  readonly grantFailure?: string
}

/** @internal */
export interface IntegrationOptions {
  readonly clientId: string
  readonly scope?: string
  readonly refresh?: boolean
  readonly tokenLifetime?: Duration.DurationInput
  readonly grantLifetime?: Duration.DurationInput
  readonly users?: ReadonlyArray<string>
  readonly grantTypes?: ReadonlyArray<GrantType>
}

/** @internal */
export interface DeviceOptions {
  /**
   * Seconds between polls the server asks for (default 5). vedauth waits 5 seconds when told less
   * than 1 (RFC 8628's default), so 1 is the quickest pace a test can have.
   */
  readonly interval?: number
  /** Seconds a device code lives (default 600). */
  readonly expiresIn?: number
  /** Approve every code on the poll after this many, as the approver (for `simulate`). */
  readonly autoApproveAfterPolls?: number
  /** The login that approves by default (default: the first user). */
  readonly approver?: string
  /** Answer the first this many polls of each code with `slow_down`, however paced (a busy server). */
  readonly slowDownPolls?: number
  /**
   * The `verification_uri` answered (default `https://<Host header>/vedauth/device`), e.g. a
   * hostile server's link to another host; `verification_uri_complete` adds `?user_code=` to it.
   */
  readonly verificationUri?: string
}

/** @internal */
export interface Options {
  readonly users?: ReadonlyArray<UserOptions>
  readonly integrations?: ReadonlyArray<IntegrationOptions>
  readonly schemes?: ReadonlyArray<SchemeName>
  readonly channelBindings?: "required" | "when-present"
  readonly defaultDomain?: string
  readonly maxBodyBytes?: number
  /** The most grants kept at once (default 20,000); past it the least recently issued is dropped. */
  readonly maxGrants?: number
  readonly faults?: Faults
  /** Accept Kerberos inside Negotiate, and run a minimal KDC for the realm (off by default). */
  readonly kerberos?: KerberosOptions
  readonly device?: DeviceOptions
  readonly jwt?: JwtOptions
}

/** @internal */
export interface JwtOptions {
  /** The `iss` trusted (default `https://kubernetes.default.svc`). */
  readonly issuer?: string
  /** The `aud` required (default `vedauth`). */
  readonly audience?: string
  /** The issuer's RS256 public key (SPKI PEM, as `openssl pkey -pubout` writes); default: a pair made on first use. */
  readonly publicKeyPem?: string
}

/** @internal */
export const resolve = (options: Options = {}): ResolvedConfig => {
  const defaultDomain = options.defaultDomain ?? "CORP"
  const users: ReadonlyArray<UserConfig> = options.users === undefined ? [defaultUser] : options.users.map((user) => {
    const domain = user.domain ?? defaultDomain
    return {
      domain,
      name: user.name,
      password: user.password,
      identity: user.identity ?? identityFor(domain, user.name),
      unmappableIdentity: user.unmappableIdentity ?? false,
      grantFailure: user.grantFailure
    }
  })
  const integrations: ReadonlyArray<IntegrationConfig> = options.integrations === undefined
    ? [defaultIntegration]
    : options.integrations.map((integration) => ({
      clientId: integration.clientId,
      scope: integration.scope ?? defaultIntegration.scope,
      refresh: integration.refresh ?? true,
      tokenLifetime: integration.tokenLifetime ?? defaultIntegration.tokenLifetime,
      grantLifetime: integration.grantLifetime ?? defaultIntegration.grantLifetime,
      users: integration.users?.map((login) =>
        login.includes("\\") ? login.toUpperCase() : userKey(defaultDomain, login)
      ),
      grantTypes: integration.grantTypes ?? defaultIntegration.grantTypes
    }))
  const approver = options.device?.approver ?? `${users[0]?.domain ?? defaultDomain}\\${users[0]?.name ?? ""}`
  return {
    device: {
      intervalSeconds: options.device?.interval ?? 5,
      expiresInSeconds: options.device?.expiresIn ?? 600,
      autoApproveAfterPolls: options.device?.autoApproveAfterPolls,
      slowDownPolls: options.device?.slowDownPolls ?? 0,
      verificationUri: options.device?.verificationUri,
      approver
    },
    jwt: {
      issuer: options.jwt?.issuer ?? "https://kubernetes.default.svc",
      audience: options.jwt?.audience ?? "vedauth",
      publicKeyPem: options.jwt?.publicKeyPem
    },
    users,
    integrations,
    schemes: options.schemes ?? ["Negotiate", "NTLM"],
    channelBindings: options.channelBindings ?? "required",
    defaultDomain,
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024,
    maxGrants: options.maxGrants ?? 20_000,
    serverName: "TPP"
  }
}

/** @internal */
export interface LiveGrant {
  readonly clientId: string
  readonly user: string
  readonly identity: string
  readonly scope: string
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
  readonly grantIssuedAt: DateTime.Utc
  readonly accessIssuedAt: DateTime.Utc
  readonly accessExpiresAt: DateTime.Utc
  readonly refreshUntil: DateTime.Utc
  readonly refreshCount: number
}

/** @internal */
export interface Stats {
  readonly requests: number
  readonly connections: number
  readonly authorizeIntegrated: number
  readonly authorizeOauth: number
  readonly authorizeCertificate: number
  readonly authorizeJwt: number
  readonly authorizeDevice: number
  readonly devicePoll: number
  readonly refresh: number
  readonly verify: number
  readonly revoke: number
  readonly resources: number
  readonly handshakesCompleted: number
  readonly handshakesRejected: number
  readonly rejected4xx: number
  readonly injectedFaults: number
  readonly roundTripsPerHandshake: ReadonlyArray<number>
  readonly rejections: Readonly<Record<string, number>>
  readonly liveGrants: number
}

/** @internal */
export interface Service {
  readonly config: ResolvedConfig
  /** The Kerberos realm (KDC, service keys) when the simulator was made with `kerberos`. */
  readonly kerberos: KerberosRealm | undefined
  readonly connect: (options?: { readonly tls?: TlsInfo }) => Effect.Effect<Connection>
  readonly handle: (connection: Connection, request: SimRequest) => Effect.Effect<SimResponse>
  readonly faults: Effect.Effect<Faults>
  readonly setFaults: (faults: Faults) => Effect.Effect<void>
  readonly stats: Effect.Effect<Stats>
  readonly grants: Effect.Effect<ReadonlyArray<LiveGrant>>
  readonly resetStats: Effect.Effect<void>
  /** A person approves the device authorization with this user code (as `login`, default the approver); false if none is pending. */
  readonly approveDevice: (userCode: string, login?: string) => Effect.Effect<boolean>
  /** A person denies the device authorization with this user code; false if none is pending. */
  readonly denyDevice: (userCode: string) => Effect.Effect<boolean>
  /** The trusted issuer's public key (SPKI PEM). */
  readonly jwtPublicKeyPem: Effect.Effect<string>
  /** Signs claims as the trusted issuer (RS256); dies when the issuer's key was given (no private key). */
  readonly signJwt: (claims: Record<string, unknown>) => Effect.Effect<string>
}

/** @internal */
export const make = (options: Options = {}): Effect.Effect<Service> =>
  Effect.gen(function*() {
    const config = resolve(options)
    const state = new State(config.maxGrants)
    const faults = yield* Ref.make<Faults>(options.faults ?? {})
    const kerberos = options.kerberos === undefined ? undefined : yield* makeRealm(options.kerberos, config.users)
    const publicKeyPem = config.jwt.publicKeyPem
    const jwtIssuer = yield* Effect.cached(
      Effect.orDie(Effect.tryPromise(() => publicKeyPem === undefined ? generateIssuer() : importIssuer(publicKeyPem)))
    )
    const ctx: HandlerContext = { config, state, faults, kerberos, jwtIssuer }
    return {
      config,
      kerberos,
      connect: (connectOptions) =>
        Effect.sync(() => {
          state.counters.connections++
          return {
            id: state.nextConnectionId++,
            tls: connectOptions?.tls,
            auth: { _tag: "Anonymous" },
            handshakeRequests: 0
          }
        }),
      handle: (connection, request) => handle(ctx, connection, request),
      approveDevice: (userCode, login) =>
        answerDevice(ctx, userCode, { approve: true, ...(login === undefined ? {} : { login }) }),
      denyDevice: (userCode) => answerDevice(ctx, userCode, { approve: false }),
      jwtPublicKeyPem: Effect.map(jwtIssuer, (keys) => keys.publicKeyPem),
      signJwt: (claims) =>
        Effect.flatMap(jwtIssuer, (keys) =>
          keys.privateKey === undefined
            ? Effect.dieMessage("the simulator was given the JWT issuer's public key: it cannot sign")
            : Effect.promise(() => sign(keys.privateKey!, claims))),
      faults: Ref.get(faults),
      setFaults: (next) => Ref.set(faults, next),
      stats: Effect.sync(() => ({
        ...state.counters,
        roundTripsPerHandshake: [...state.roundTrips],
        rejections: { ...state.rejections },
        liveGrants: state.grants.size
      })),
      grants: Effect.map(Clock.currentTimeMillis, (now) =>
        Array.from(state.grants.values())
          .filter((grant) => now < grant.grantEnd)
          .map((grant): LiveGrant => ({
            clientId: grant.clientId,
            user: grant.user,
            identity: grant.identity,
            scope: grant.scope,
            accessToken: Redacted.make(grant.accessToken),
            refreshToken: Option.map(Option.fromNullable(grant.refreshToken), (token) => Redacted.make(token)),
            grantIssuedAt: DateTime.unsafeMake(grant.grantIssuedAt),
            accessIssuedAt: DateTime.unsafeMake(grant.accessIssuedAt),
            accessExpiresAt: DateTime.unsafeMake(grant.accessExpires),
            refreshUntil: DateTime.unsafeMake(grant.grantEnd),
            refreshCount: grant.refreshCount
          }))),
      resetStats: Effect.sync(() => {
        state.counters = {
          ...state.counters,
          requests: 0,
          connections: 0,
          authorizeIntegrated: 0,
          authorizeOauth: 0,
          authorizeCertificate: 0,
          authorizeJwt: 0,
          authorizeDevice: 0,
          devicePoll: 0,
          refresh: 0,
          verify: 0,
          revoke: 0,
          resources: 0,
          handshakesCompleted: 0,
          handshakesRejected: 0,
          rejected4xx: 0,
          injectedFaults: 0
        }
        state.roundTrips = []
        state.rejections = {}
      })
    } satisfies Service
  })
