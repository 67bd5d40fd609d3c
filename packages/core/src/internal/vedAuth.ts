import { HttpClient, HttpClientRequest } from "@effect/platform"
import { DateTime, Deferred, Duration, Effect, Option, Redacted, Ref, Schema } from "effect"
import * as Grant from "../Grant.js"
import { NtlmTransport, parseUser } from "../NtlmTransport.js"
import * as Scope from "../Scope.js"
import * as TokenInfo from "../TokenInfo.js"
import { TokenStore } from "../TokenStore.js"
import type * as TokenStoreNs from "../TokenStore.js"
import type { AuthorizeError, AuthorizeRequest, Options, Service } from "../VedAuth.js"
import { RevokeResult } from "../VedAuth.js"
import * as VedAuthError from "../VedAuthError.js"
import * as errors from "./errors.js"
import * as http from "./http.js"
import { freshness, type Freshness } from "./freshness.js"

/** @internal */
export const defaultRequestTimeout = Duration.seconds(30)

const jsonHeaders = { "content-type": "application/json", accept: "application/json" } as const

const sameToken = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>): boolean =>
  Redacted.value(a) === Redacted.value(b)

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

/**
 * The service for a URL that carries a user name or password (`https://user:pw@host`): such a URL
 * would put the password into logs, errors and the store's keys, so every operation refuses it
 * with a `TransportError` that says what to do (the layer has no error channel to report it in).
 *
 * @internal
 */
const refusedService = (options: Options, store: TokenStoreNs.Service): Service => {
  const url = http.safeUrl(options.url)
  const refused = new VedAuthError.TransportError({
    detail: "the server URL carries a user name or password (user:password@host); refusing to use it: " +
      "give the URL without them, and the Windows credentials as username and password (VEDAUTH_USERNAME, VEDAUTH_PASSWORD)",
    url
  })
  const fail = Effect.fail(refused)
  const base = url.replace(/\/+$/, "")
  return {
    options: { ...options, url },
    authorize: () => fail,
    refresh: () => fail,
    verify: () => fail,
    revoke: () => fail,
    isAuthServer: fail,
    stored: store.get({ server: base, clientId: options.clientId, scope: options.scope, user: options.username ?? "" }),
    login: fail,
    grant: fail,
    accessToken: fail,
    session: fail,
    httpClient: <E, R>(_client: HttpClient.HttpClient.With<E, R>) =>
      HttpClient.makeWith<never, never, E | VedAuthError.VedAuthError, R>(() => fail, Effect.succeed)
  }
}

/**
 * Builds the service from options and the three services it talks through.
 *
 * @internal
 */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const transport = yield* NtlmTransport
    const store = yield* TokenStore
    // The layer's scope: renewals run in it, so closing the layer interrupts them (and frees the lock).
    const layerScope = yield* Effect.scope
    if (http.hasUserinfo(options.url)) return refusedService(options, store)
    const base = options.url.replace(/\/+$/, "")
    const endpointUrl = (path: string) => `${base}/vedauth/${path}`
    const key: TokenStoreNs.Key = { server: base, clientId: options.clientId, scope: options.scope, user: options.username ?? "" }

    // The last grant this process saw: a fresh one is handed out without touching the store.
    const cache = yield* Ref.make(Option.none<Grant.Grant>())
    // The renewal in progress, shared by every fiber that finds the grant stale (single flight).
    const inflight = yield* Ref.make(Option.none<Deferred.Deferred<Grant.Grant, VedAuthError.VedAuthError>>())

    // A stalled server must not hang a caller, nor (during a refresh) everyone waiting for the lock.
    const requestTimeout = Duration.decode(options.requestTimeout ?? defaultRequestTimeout)
    const withTimeout = (url: string) =>
      Effect.timeoutFail({
        duration: requestTimeout,
        onTimeout: () =>
          new VedAuthError.TransportError({ detail: `no answer within ${Duration.format(requestTimeout)}`, url: http.safeUrl(url) })
      })

    const send = (request: HttpClientRequest.HttpClientRequest) =>
      client.execute(request).pipe(
        Effect.mapError(http.transportError(request.url)),
        Effect.flatMap((response) => http.readAnswer(response, request.url)),
        Effect.scoped,
        withTimeout(request.url)
      )

    const decodeGrant = (endpoint: errors.Endpoint, answer: http.Answer, secrets: ReadonlyArray<Redacted.Redacted<string>>) =>
      http.parseJson(endpoint, answer, secrets).pipe(
        Effect.flatMap(Schema.decodeUnknown(Grant.GrantResponse, { onExcessProperty: "ignore" })),
        Effect.mapError((error) =>
          error._tag === "ParseError" ? errors.undecodable(endpoint, answer.status, answer.reason, "a grant", secrets) : error
        )
      )

    const warnOnNarrowerScope = (requested: string, granted: Grant.Grant) => {
      const wanted = Scope.parse(requested)
      const got = Scope.parse(granted.scope)
      return wanted._tag === "Right" && got._tag === "Right" && !Scope.isSubset(wanted.right, got.right)
        ? Effect.logWarning(`vedauth: asked for scope '${Scope.print(wanted.right)}', granted '${Scope.print(got.right)}'`)
        : Effect.void
    }

    const authorize = Effect.fn("VedAuth.authorize")(function*(request?: AuthorizeRequest) {
      if (options.username === undefined || options.username === "" || options.password === undefined) {
        return yield* new VedAuthError.AuthenticationFailed({
          description: "no Windows credentials configured (username and password, e.g. VEDAUTH_USERNAME and VEDAUTH_PASSWORD)"
        })
      }
      const password = Redacted.isRedacted(options.password) ? options.password : yield* options.password
      const { domain, username } = parseUser(options.username)
      const scope = request?.scope ?? options.scope
      const body = {
        client_id: request?.clientId ?? options.clientId,
        scope,
        ...(request?.state === undefined ? {} : { state: request.state })
      }
      const response = yield* transport.request({
        method: "POST",
        url: endpointUrl("authorize/integrated"),
        headers: jsonHeaders,
        body: new TextEncoder().encode(JSON.stringify(body)),
        credentials: { domain, username, password }
      }).pipe(withTimeout(endpointUrl("authorize/integrated")))
      const answer: http.Answer = { status: response.status, reason: response.reason, body: new TextDecoder().decode(response.body) }
      const secrets = [password]
      if (answer.status !== 200) {
        return yield* Effect.fail(asAuthorizeError(errors.fromFailure({ endpoint: "authorize", ...answer, secrets })))
      }
      const wire = yield* decodeGrant("authorize", answer, secrets)
      if (request?.state !== undefined && wire.state != null && wire.state !== request.state) {
        return yield* new VedAuthError.UnexpectedResponse({
          status: answer.status,
          detail: "the server echoed a different state than was sent: the grant is refused (possible CSRF or mixed-up response)"
        })
      }
      const grant = Grant.fromResponse(wire, yield* DateTime.now)
      yield* warnOnNarrowerScope(scope, grant)
      return grant
    })

    // POST authorize/token. Never retried: a refresh token is good for one use only.
    const exchange = (grant: Grant.Grant) =>
      Effect.gen(function*() {
        if (Option.isNone(grant.refreshToken)) {
          return yield* new VedAuthError.InvalidGrant({
            description: "the grant has no refresh token: refresh is disabled for this integration, authorize again"
          })
        }
        const secrets = [grant.refreshToken.value, grant.accessToken]
        const request = HttpClientRequest.post(endpointUrl("authorize/token")).pipe(
          HttpClientRequest.setHeaders(jsonHeaders),
          HttpClientRequest.bodyUnsafeJson({ client_id: options.clientId, refresh_token: Redacted.value(grant.refreshToken.value) })
        )
        const answer = yield* send(request)
        if (answer.status !== 200) return yield* Effect.fail(errors.fromFailure({ endpoint: "refresh", ...answer, secrets }))
        const wire = yield* decodeGrant("refresh", answer, secrets)
        return Grant.fromResponse(wire, yield* DateTime.now)
      })

    const remember = (grant: Grant.Grant) => Effect.as(Ref.set(cache, Option.some(grant)), grant)
    // The new pair is in the store before anyone can use it: a crash after the refresh loses nothing.
    const storeAndRemember = (grant: Grant.Grant) => Effect.zipRight(store.set(key, grant), remember(grant))

    const isStored = (grant: Grant.Grant) =>
      Effect.map(store.get(key), Option.exists((stored) => sameToken(stored.accessToken, grant.accessToken)))

    const refresh = Effect.fn("VedAuth.refresh")(function*(grant: Grant.Grant) {
      return yield* store.withLock(
        key,
        Effect.gen(function*() {
          const wasStored = yield* isStored(grant)
          const next = yield* exchange(grant)
          return wasStored ? yield* storeAndRemember(next) : next
        })
      )
    })

    const bearerGet = (path: string, token: Redacted.Redacted<string>) =>
      send(HttpClientRequest.get(endpointUrl(path)).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.bearerToken(token)
      ))

    const verify = Effect.fn("VedAuth.verify")(function*(token: Redacted.Redacted<string>) {
      const secrets = [token]
      const answer = yield* bearerGet("authorize/verify", token)
      if (answer.status !== 200) return yield* Effect.fail(errors.fromFailure({ endpoint: "verify", ...answer, secrets }))
      const json = yield* http.parseJson("verify", answer, secrets)
      return yield* TokenInfo.decodeResponse(json).pipe(
        Effect.mapError(() => errors.undecodable("verify", answer.status, answer.reason, "token information", secrets))
      )
    })

    const revoke = Effect.fn("VedAuth.revoke")(function*(target: Grant.Grant | Redacted.Redacted<string>) {
      const token = Redacted.isRedacted(target) ? target : target.accessToken
      const secrets = Redacted.isRedacted(target) ? [token] : [token, ...Option.toArray(target.refreshToken)]
      const answer = yield* bearerGet("revoke/token", token)
      const reason = errors.scrub(answer.reason, secrets)
      const result = answer.status === 200
        ? RevokeResult.Revoked({ reason })
        : answer.status === 202
        ? RevokeResult.NotFound({ reason })
        : undefined
      if (result === undefined) return yield* Effect.fail(errors.fromFailure({ endpoint: "revoke", ...answer, secrets }))
      // Either way the token is of no more use: forget it if it was the managed grant.
      const stored = yield* store.get(key)
      if (Option.isSome(stored) && sameToken(stored.value.accessToken, token)) {
        yield* store.remove(key)
        yield* Ref.set(cache, Option.none())
      }
      return result
    })

    const isAuthServer = Effect.fn("VedAuth.isAuthServer")(function*() {
      const answer = yield* send(HttpClientRequest.get(endpointUrl("authorize/isAuthServer")))
      if (answer.status === 200 || answer.status === 202) {
        // HTTP/2 carries no reason phrase; then the status alone has to do.
        return answer.reason === "" || /Venafi Authentication Server/i.test(`${answer.reason} ${answer.body}`)
      }
      if (answer.status >= 500) {
        return yield* new VedAuthError.UnexpectedResponse({
          status: answer.status,
          ...(answer.reason === "" ? {} : { reason: answer.reason }),
          detail: `HTTP ${answer.status} from isAuthServer`
        })
      }
      return false
    })

    const authorizeAndStore = Effect.flatMap(authorize(), storeAndRemember)

    const stateAt = (grant: Grant.Grant, now: DateTime.Utc): Freshness => freshness(grant, now, options.refreshWindow)

    /**
     * Runs under the store's lock: re-reads the store (another process may have renewed while we
     * waited), then refreshes, or re-authorizes when the grant has ended or its refresh token is
     * spent. `rejected` is an access token a resource server refused: never hand it out again.
     */
    const renew = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      store.withLock(
        key,
        Effect.gen(function*() {
          const now = yield* DateTime.now
          const stored = yield* store.get(key)
          if (Option.isNone(stored)) return yield* authorizeAndStore
          const grant = stored.value
          const wasRejected = Option.exists(rejected, (token) => sameToken(token, grant.accessToken))
          const state = stateAt(grant, now)
          if (state === "fresh" && !wasRejected) return yield* remember(grant)
          if (state === "ended" || !grant.canRefreshAt(now)) return yield* authorizeAndStore
          return yield* exchange(grant).pipe(
            Effect.flatMap(storeAndRemember),
            Effect.catchTag("InvalidGrant", (error) =>
              Effect.zipRight(
                Effect.logInfo("vedauth: the refresh token was refused, authorizing again", error.message),
                authorizeAndStore
              ))
          )
        })
      )

    type Flight = Deferred.Deferred<Grant.Grant, VedAuthError.VedAuthError>
    const singleFlight = (effect: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError>): Effect.Effect<Grant.Grant, VedAuthError.VedAuthError> =>
      Effect.gen(function*() {
        const mine: Flight = yield* Deferred.make<Grant.Grant, VedAuthError.VedAuthError>()
        const [running, leader] = yield* Ref.modify(
          inflight,
          (current): [readonly [Flight, boolean], Option.Option<Flight>] =>
            Option.isSome(current) ? [[current.value, false], current] : [[mine, true], Option.some(mine)]
        )
        if (leader) {
          // Forked in the layer's scope: it finishes for the others if the first caller is
          // interrupted, and is interrupted itself (releasing the store's lock) when the layer closes.
          // Its waiters learn the outcome either way, interruption included.
          yield* effect.pipe(
            Effect.onExit((exit) => Effect.zipRight(Ref.set(inflight, Option.none()), Deferred.done(running, exit))),
            Effect.forkIn(layerScope)
          )
        }
        return yield* Deferred.await(running)
      })

    const managedGrant: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError> = Effect.gen(function*() {
      const now = yield* DateTime.now
      const cached = yield* Ref.get(cache)
      if (Option.isSome(cached) && stateAt(cached.value, now) === "fresh") return cached.value
      const stored = yield* store.get(key)
      if (Option.isSome(stored) && stateAt(stored.value, now) === "fresh") return yield* remember(stored.value)
      return yield* singleFlight(renew(Option.none()))
    }).pipe(Effect.withSpan("VedAuth.grant"))

    const session = Effect.acquireRelease(authorize(), (grant) =>
      revoke(grant).pipe(
        Effect.catchAll((error) => Effect.logWarning("vedauth: could not revoke the session grant", error.message))
      )).pipe(Effect.withSpan("VedAuth.session"))

    const withAuthorization = <E, R>(inner: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E | VedAuthError.VedAuthError, R> =>
      HttpClient.makeWith<never, never, E | VedAuthError.VedAuthError, R>(
        (requestEffect) =>
          Effect.gen(function*() {
            const request = yield* requestEffect
            const grant = yield* managedGrant
            // Every token sent on this request's behalf: scrubbed from whatever the server answers.
            const sent = [grant.accessToken]
            let response = yield* inner.execute(HttpClientRequest.bearerToken(request, grant.accessToken))
            if (response.status === 401) {
              // The token was refused before its time (revoked, or rotated by another process): renew once, retry once.
              yield* Ref.set(cache, Option.none())
              const renewed = yield* singleFlight(renew(Option.some(grant.accessToken)))
              sent.push(renewed.accessToken)
              response = yield* inner.execute(HttpClientRequest.bearerToken(request, renewed.accessToken))
              if (response.status === 401) {
                const answer = yield* http.readAnswer(response, request.url)
                return yield* Effect.fail(errors.fromFailure({ endpoint: "resource", ...answer, secrets: sent }))
              }
            }
            if (response.status === 403) {
              const answer = yield* http.readAnswer(response, request.url)
              return yield* Effect.fail(errors.fromFailure({ endpoint: "resource", ...answer, secrets: sent }))
            }
            return response
          }),
        (request) => Effect.succeed(request)
      )

    const service: Service = {
      options,
      authorize,
      stored: store.get(key),
      login: store.withLock(key, authorizeAndStore).pipe(Effect.withSpan("VedAuth.login")),
      refresh,
      verify,
      revoke,
      isAuthServer: isAuthServer(),
      grant: managedGrant,
      accessToken: Effect.map(managedGrant, (grant) => grant.accessToken).pipe(Effect.withSpan("VedAuth.accessToken")),
      session,
      httpClient: withAuthorization
    }
    return service
  })
