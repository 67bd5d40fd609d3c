/**
 * The VEDauth flows, each as a request builder (pure) and a `process...` function that turns the
 * server's answer into a value or a tagged error, in the manner of oauth4webapi; then `send` and
 * `makeFlows`, which put the two halves on the wire. Nothing here holds state.
 */
import type { HttpClient } from "@effect/platform"
import { HttpClientRequest } from "@effect/platform"
import { Clock, DateTime, Duration, Effect, Option, Redacted } from "effect"
import * as Credentials from "../Credentials.js"
import * as Grant from "../Grant.js"
import * as LocalFiles from "../LocalFiles.js"
import type * as NtlmTransport from "../NtlmTransport.js"
import * as TokenInfo from "../TokenInfo.js"
import * as TokenScope from "../TokenScope.js"
import { TokenStoreFiles } from "../TokenStoreFiles.js"
import type { AuthorizeError, AuthorizeRequest, Options } from "../VedAuth.js"
import { RevokeResult } from "../VedAuth.js"
import * as VedAuthError from "../VedAuthError.js"
import * as errors from "./errors.js"
import * as grants from "./grants.js"
import * as http from "./http.js"
import { type TicketFor } from "./kerberosTicket.js"
import * as NtlmFallback from "./ntlmFallback.js"

/** @internal */
export const defaultRequestTimeout = Duration.seconds(30)

/**
 * The error of a call that took longer than its timeout (also what a transport enforcing
 * `NtlmTransport.Request.timeout` should say).
 *
 * @internal
 */
export const noAnswerWithin = (timeout: Duration.Duration, url: string): VedAuthError.TransportError =>
  new VedAuthError.TransportError({ detail: `no answer within ${Duration.format(timeout)}`, url: http.safeUrl(url) })

const jsonHeaders = { "content-type": "application/json", accept: "application/json" } as const

/**
 * The URL of a VEDauth endpoint under the server's base URL (trailing slashes dropped).
 *
 * @internal
 */
export const endpointUrl = (base: string, path: string): string => `${base.replace(/\/+$/, "")}/vedauth/${path}`

/**
 * A grant from a 200 answer of authorize or authorize/token, decoded by `Grant` and stamped with
 * the Clock's time of receipt; the wire form is kept for the `state` check.
 *
 * @internal
 */
export const processGrant = (
  endpoint: errors.Endpoint,
  answer: http.Answer,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
) =>
  http.parseJson(endpoint, answer, secrets).pipe(
    Effect.flatMap(Grant.decodeWire),
    Effect.catchTag("ParseError", () => errors.undecodable(endpoint, answer.status, answer.reason, "a grant", secrets)),
    Effect.flatMap((wire) =>
      Effect.flatMap(DateTime.now, (now) => {
        const grant = Grant.fromResponse(wire, now)
        const refused = Grant.refusal(grant)
        return refused === undefined
          ? Effect.succeed({ wire, grant })
          : Effect.fail(
            errors.undecodable(endpoint, answer.status, answer.reason, `a grant to use: it carries ${refused}`, secrets)
          )
      })
    )
  )

// -----------------------------------------------------------------------------------------------
// authorize/integrated (through the NTLM transport)
// -----------------------------------------------------------------------------------------------

/**
 * The body of an authorize, as sent: the caller's overrides over the layer's options.
 *
 * @internal
 */
export type AuthorizeBody = grants.GrantBody

/** @internal */
export const authorizeBody = (options: Options, request: AuthorizeRequest | undefined): AuthorizeBody => ({
  client_id: request?.clientId ?? options.clientId,
  scope: request?.scope ?? options.scope,
  ...(request?.state === undefined ? {} : { state: request.state })
})

/** @internal */
export const authorizeRequest = (
  base: string,
  body: AuthorizeBody,
  credentials: NtlmTransport.WindowsAccount
): NtlmTransport.Request => ({
  method: "POST",
  url: endpointUrl(base, "authorize/integrated"),
  headers: jsonHeaders,
  body: new TextEncoder().encode(JSON.stringify(body)),
  credentials
})

// authorize documents only grant refusals; anything else it might map to is, for it, unexpected.
const asAuthorizeError = (error: VedAuthError.VedAuthError): AuthorizeError => {
  switch (error._tag) {
    case "InvalidToken":
    case "InsufficientScope":
    case "TokenStoreError":
      return new VedAuthError.UnexpectedResponse({
        ...("status" in error && error.status !== undefined ? { status: error.status } : {}),
        ...("reason" in error && error.reason !== undefined ? { reason: error.reason } : {}),
        detail: `authorize answered with what would be ${error._tag} elsewhere`
      })
    default:
      return error
  }
}

const warnOnNarrowerScope = (requested: string, granted: Grant.Grant) => {
  const wanted = TokenScope.parse(requested)
  const got = TokenScope.parse(granted.scope)
  return wanted._tag === "Right" && got._tag === "Right" && !TokenScope.isSubset(wanted.right, got.right)
    ? Effect.logWarning(
      `vedauth: asked for scope '${TokenScope.print(wanted.right)}', granted '${TokenScope.print(got.right)}'`
    )
    : Effect.void
}

/**
 * The answer to an authorize (any grant): a grant, whose echoed `state` must be the one sent.
 *
 * @internal
 */
export const processAuthorizeAnswer = (
  answer: http.Answer,
  body: AuthorizeBody,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
) =>
  Effect.gen(function*() {
    if (answer.status !== 200) {
      return yield* Effect.fail(asAuthorizeError(errors.fromFailure({ endpoint: "authorize", ...answer, secrets })))
    }
    const { grant, wire } = yield* processGrant("authorize", answer, secrets)
    if (body.state !== undefined && wire.state != null && wire.state !== body.state) {
      return yield* new VedAuthError.UnexpectedResponse({
        status: answer.status,
        detail:
          "the server echoed a different state than was sent: the grant is refused (possible CSRF or mixed-up response)"
      })
    }
    yield* warnOnNarrowerScope(body.scope, grant)
    return grant
  })

/**
 * The answer to authorize/integrated, as the NTLM transport returns it.
 *
 * @internal
 */
export const processAuthorize = (
  response: NtlmTransport.Response,
  body: AuthorizeBody,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
) =>
  // The same cap as every other answer, whatever the transport let through.
  response.body.length > http.maxBodyBytes
    ? Effect.fail(
      new VedAuthError.UnexpectedResponse({
        status: response.status,
        ...(response.reason === "" ? {} : { reason: errors.scrub(response.reason, secrets) }),
        detail: `the response body is larger than ${http.maxBodyBytes} bytes; not read`
      })
    )
    : processAuthorizeAnswer(
      { status: response.status, reason: response.reason, body: new TextDecoder().decode(response.body) },
      body,
      secrets
    )

// -----------------------------------------------------------------------------------------------
// authorize/token, authorize/verify, revoke/token, authorize/isAuthServer (plain HTTP)
// -----------------------------------------------------------------------------------------------

/** @internal */
export const refreshRequest = (base: string, clientId: string, refreshToken: Redacted.Redacted<string>) =>
  HttpClientRequest.post(endpointUrl(base, "authorize/token")).pipe(
    HttpClientRequest.setHeaders(jsonHeaders),
    HttpClientRequest.bodyUnsafeJson({ client_id: clientId, refresh_token: Redacted.value(refreshToken) })
  )

/** @internal */
export const processRefresh = (answer: http.Answer, secrets: ReadonlyArray<Redacted.Redacted<string>>) =>
  answer.status === 200
    ? Effect.map(processGrant("refresh", answer, secrets), ({ grant }) => grant)
    : Effect.fail(errors.fromFailure({ endpoint: "refresh", ...answer, secrets }))

const bearerGet = (base: string, path: string, token: Redacted.Redacted<string>) =>
  HttpClientRequest.get(endpointUrl(base, path)).pipe(
    HttpClientRequest.acceptJson,
    HttpClientRequest.bearerToken(token)
  )

/** @internal */
export const verifyRequest = (base: string, token: Redacted.Redacted<string>) =>
  bearerGet(base, "authorize/verify", token)

/** @internal */
export const processVerify = (answer: http.Answer, secrets: ReadonlyArray<Redacted.Redacted<string>>) =>
  answer.status !== 200
    ? Effect.fail(errors.fromFailure({ endpoint: "verify", ...answer, secrets }))
    : Effect.flatMap(http.parseJson("verify", answer, secrets), (json) =>
      TokenInfo.decodeResponse(json).pipe(
        Effect.mapError(() => errors.undecodable("verify", answer.status, answer.reason, "token information", secrets))
      ))

/** @internal */
export const revokeRequest = (base: string, token: Redacted.Redacted<string>) => bearerGet(base, "revoke/token", token)

/** @internal */
export const processRevoke = (
  answer: http.Answer,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
): Effect.Effect<RevokeResult, VedAuthError.VedAuthError> => {
  const reason = errors.scrub(answer.reason, secrets)
  if (answer.status === 200) return Effect.succeed(RevokeResult.Revoked({ reason }))
  if (answer.status === 202) return Effect.succeed(RevokeResult.NotFound({ reason }))
  return Effect.fail(errors.fromFailure({ endpoint: "revoke", ...answer, secrets }))
}

/** @internal */
export const isAuthServerRequest = (base: string) => HttpClientRequest.get(endpointUrl(base, "authorize/isAuthServer"))

/** @internal */
export const processIsAuthServer = (answer: http.Answer): Effect.Effect<boolean, VedAuthError.UnexpectedResponse> => {
  if (answer.status === 200 || answer.status === 202) {
    // HTTP/2 carries no reason phrase; then the status alone has to do.
    return Effect.succeed(
      answer.reason === "" || /Venafi Authentication Server/i.test(`${answer.reason} ${answer.body}`)
    )
  }
  if (answer.status >= 500) {
    return Effect.fail(
      new VedAuthError.UnexpectedResponse({
        status: answer.status,
        ...(answer.reason === "" ? {} : { reason: errors.scrub(answer.reason, []) }),
        detail: `HTTP ${answer.status} from isAuthServer`
      })
    )
  }
  return Effect.succeed(false)
}

// -----------------------------------------------------------------------------------------------
// On the wire
// -----------------------------------------------------------------------------------------------

// The JWT, read anew at each authorize (a projected token rotates under a long-running process),
// through the hardened reader by the JWT file's rules (LocalFiles).
const readJwt = (
  source: Credentials.JwtSource,
  files: Option.Option<TokenStoreFiles["Type"]>
): Effect.Effect<Redacted.Redacted<string>, VedAuthError.AuthenticationFailed> => {
  if ("effect" in source) return source.effect
  if (Option.isNone(files)) {
    return Effect.fail(
      new VedAuthError.AuthenticationFailed({
        description:
          `no TokenStoreFiles (NodeTokenStoreFiles.layer) in the layer's context to read the JWT file ${source.file}`
      })
    )
  }
  return LocalFiles.readExistingText(source.file, "jwt").pipe(
    Effect.provideService(TokenStoreFiles, files.value),
    Effect.map((text) => Redacted.make(text.trim())),
    Effect.mapError((error) => new VedAuthError.AuthenticationFailed({ description: error.message })),
    Effect.filterOrFail(
      (jwt) => Redacted.value(jwt) !== "",
      () => new VedAuthError.AuthenticationFailed({ description: `the JWT file ${source.file} is empty` })
    )
  )
}

/**
 * The device flow's two requests on a layer's `send`: authorize/device, then authorize/token polled
 * on the Clock until the person decides or the code expires.
 */
const deviceFlow = <E>(
  serverUrl: string,
  send: (request: HttpClientRequest.HttpClientRequest) => Effect.Effect<http.Answer, E>,
  post: (path: string) => string
) => {
  /** authorize/device: the codes, and the Clock millis at which the device code expires. */
  const deviceStart = (body: AuthorizeBody) =>
    Effect.gen(function*() {
      const authorization = yield* Effect.flatMap(
        send(grants.deviceRequest(post("authorize/device"), body)),
        grants.processDevice
      )
      const deadline = (yield* Clock.currentTimeMillis) + authorization.expiresInSeconds * 1000
      return { authorization, deadline } satisfies DeviceStarted
    })

  /**
   * The person's part of the device flow: the prompt shown, then authorize/token polled every
   * `interval` seconds on the Clock (plus 5 on each `slow_down`) until the person approves or
   * denies, or the code expires. Interruptible at every wait.
   */
  const deviceApprove = (
    prompt: Credentials.Device["prompt"],
    body: AuthorizeBody,
    { authorization, deadline }: DeviceStarted
  ) =>
    Effect.gen(function*() {
      yield* grants.warnAboutLinks(serverUrl, authorization)
      yield* prompt(grants.promptOf(authorization))
      const secrets = [authorization.deviceCode]
      let interval = authorization.intervalSeconds
      while (true) {
        // Never past the code's expiry: those waiting for this attempt learn of it on time.
        yield* Effect.sleep(
          Duration.millis(Math.max(0, Math.min(interval * 1000, deadline - (yield* Clock.currentTimeMillis))))
        )
        if ((yield* Clock.currentTimeMillis) >= deadline) return yield* Effect.fail(grants.deviceCodeExpired())
        const answer = yield* send(
          grants.devicePollRequest(post("authorize/token"), body.client_id, authorization.deviceCode)
        )
        if (answer.status === 200) return yield* processAuthorizeAnswer(answer, body, secrets)
        const outcome = grants.processPollFailure(answer, secrets)
        if (outcome._tag === "Refused") return yield* Effect.fail(outcome.error)
        if (outcome._tag === "SlowDown") interval += 5
      }
    })

  return { deviceStart, deviceApprove }
}

/**
 * The flows of one layer, on its client and transport, each call bounded by the request timeout
 * (a stalled server must not hang a caller, nor, during a refresh, everyone waiting for the lock).
 *
 * @internal
 */
export const makeFlows = (
  options: Options,
  client: HttpClient.HttpClient,
  transport: NtlmTransport.Service,
  ticketFor: TicketFor,
  files: Option.Option<TokenStoreFiles["Type"]>
) => {
  const base = options.url.replace(/\/+$/, "")
  const timeout = Duration.decode(options.requestTimeout ?? defaultRequestTimeout)
  const withTimeout = (url: string) =>
    Effect.timeoutFail({ duration: timeout, onTimeout: () => noAnswerWithin(timeout, url) })

  // The answer read whole (VEDauth answers are small), in the request's own scope.
  const send = (request: HttpClientRequest.HttpClientRequest) =>
    client.execute(request).pipe(
      Effect.mapError(http.transportError(request.url)),
      Effect.flatMap((response) => http.readAnswer(response, request.url)),
      Effect.scoped,
      withTimeout(request.url)
    )

  const post = (path: string) => endpointUrl(base, path)
  // Any answer of an authorize endpoint other than integrated: a grant, or a refusal.
  const grantFrom = (
    request: HttpClientRequest.HttpClientRequest,
    body: AuthorizeBody,
    secrets: ReadonlyArray<Redacted.Redacted<string>>
  ) => Effect.flatMap(send(request), (answer) => processAuthorizeAnswer(answer, body, secrets))

  /**
   * POST authorize/integrated with these Windows credentials, through the transport: Kerberos inside
   * Negotiate when a ticket can be had, else NTLM (under `negotiate` also when the server refuses the
   * ticket: then NTLM on a fresh exchange, with a timeout of its own). The timeout goes with the
   * request: a transport that enforces it spares the call a racing fiber; any other is bounded here.
   */
  const integrated = (windows: NtlmTransport.WindowsAccount, body: AuthorizeBody) => {
    const outgoing = { ...authorizeRequest(base, body, windows), timeout }
    // The KDC round trips and key derivation (if any) come first, and one deadline covers them and
    // the HTTP handshake: the handshake gets what the ticket left of the timeout.
    const sent = Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const kerberos = yield* ticketFor(windows)
      const spent = (yield* Clock.currentTimeMillis) - started
      const left = Duration.toMillis(timeout) - spent
      if (left <= 0) return yield* noAnswerWithin(timeout, outgoing.url)
      const within = spent <= 0 ? outgoing : { ...outgoing, timeout: Duration.millis(left) }
      return yield* kerberos === undefined
        ? transport.request(within)
        // A fresh NTLM exchange after the server refused the ticket has a timeout of its own.
        : NtlmFallback.afterRefusal(
          kerberos,
          windows,
          transport.request({ ...within, kerberos }),
          transport.request(outgoing)
        )
    })
    return (transport.enforcesTimeout === true ? sent : withTimeout(outgoing.url)(sent)).pipe(
      Effect.flatMap((response) => processAuthorize(response, body, [windows.password]))
    )
  }

  const { deviceApprove, deviceStart } = deviceFlow(options.url, send, post)

  /**
   * The layer's device flow in its two halves, for the managed grant: `start` is quick (one
   * request), `approve` waits for a person (minutes) and so must not run under the store's lock.
   */
  const deviceSteps: DeviceSteps | undefined = options.credentials?._tag === "Device"
    ? ((prompt, body) => ({
      start: Effect.mapError(deviceStart(body), asAuthorizeError),
      approve: (started) => Effect.mapError(deviceApprove(prompt, body, started), asAuthorizeError)
    }))(options.credentials.prompt, authorizeBody(options, undefined))
    : undefined

  /**
   * Authorizes with the layer's grant. `windows` yields the username and password (asked for only
   * by the grants that send them: integrated and password).
   */
  const authorize = (
    windows: Effect.Effect<NtlmTransport.WindowsAccount, VedAuthError.AuthenticationFailed>,
    request?: AuthorizeRequest
  ): Effect.Effect<Grant.Grant, AuthorizeError> => {
    const body = authorizeBody(options, request)
    const credentials = options.credentials ?? Credentials.integrated
    const sent: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError> = (() => {
      switch (credentials._tag) {
        case "Integrated":
          return Effect.flatMap(windows, (windows) => integrated(windows, body))
        case "Password":
          return Effect.flatMap(
            windows,
            ({ password }) =>
              grantFrom(grants.passwordRequest(post("authorize/oauth"), body, options.username ?? "", password), body, [
                password
              ])
          )
        case "Certificate":
          return grantFrom(grants.certificateRequest(post("authorize/certificate"), body), body, [])
        case "Jwt":
          return Effect.flatMap(
            readJwt(credentials.source, files),
            (jwt) => grantFrom(grants.jwtRequest(post("authorize/jwt"), body, jwt), body, [jwt])
          )
        case "Device":
          return Effect.flatMap(deviceStart(body), (started) => deviceApprove(credentials.prompt, body, started))
      }
    })()
    return Effect.mapError(sent, asAuthorizeError)
  }

  /** POST authorize/token. Never retried: a refresh token is good for one use only. */
  const refresh = (grant: Grant.Grant): Effect.Effect<Grant.Grant, VedAuthError.VedAuthError> => {
    if (Option.isNone(grant.refreshToken)) {
      return Effect.fail(
        new VedAuthError.InvalidGrant({
          description: "the grant has no refresh token: refresh is disabled for this integration, authorize again"
        })
      )
    }
    const secrets = [grant.refreshToken.value, grant.accessToken]
    return Effect.flatMap(
      send(refreshRequest(base, options.clientId, grant.refreshToken.value)),
      (answer) => processRefresh(answer, secrets)
    )
  }

  const verify = (token: Redacted.Redacted<string>) =>
    Effect.flatMap(send(verifyRequest(base, token)), (answer) => processVerify(answer, [token]))

  const revoke = (target: Grant.Grant | Redacted.Redacted<string>) => {
    const token = Redacted.isRedacted(target) ? target : target.accessToken
    const secrets = Redacted.isRedacted(target) ? [token] : [token, ...Option.toArray(target.refreshToken)]
    return Effect.flatMap(send(revokeRequest(base, token)), (answer) => processRevoke(answer, secrets))
  }

  const isAuthServer = Effect.flatMap(send(isAuthServerRequest(base)), processIsAuthServer)

  return { base, authorize, deviceSteps, refresh, verify, revoke, isAuthServer }
}

/**
 * A device authorization under way: the codes and when they expire (Clock millis).
 *
 * @internal
 */
export interface DeviceStarted {
  readonly authorization: grants.DeviceAuthorization
  readonly deadline: number
}

/** @internal */
export interface DeviceSteps {
  readonly start: Effect.Effect<DeviceStarted, AuthorizeError>
  readonly approve: (started: DeviceStarted) => Effect.Effect<Grant.Grant, AuthorizeError>
}
