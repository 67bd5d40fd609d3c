import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Clock, DateTime, Deferred, Duration, Effect, Option, Redacted, Ref, Schema } from "effect"
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
import { freshness, type Freshness, freshUntilMillis } from "./freshness.js"

/** @internal */
export const defaultRequestTimeout = Duration.seconds(30)

/**
 * How long a cached grant is handed out before the store is looked at again (to see a rotation by
 * another process): short enough that a dead token is noticed promptly, long enough that the hot
 * path is a Ref read and a clock read.
 *
 * @internal
 */
export const cacheCheckMillis = 5_000

interface Cached {
  readonly grant: Grant.Grant
  /** Clock millis when the grant was last seen to match the store (or put there). */
  readonly checkedAt: number
  /** Clock millis until which the grant is fresh (see `freshUntilMillis`). */
  readonly freshUntil: number
  /** The store failed to save it: the store's copy is older, or missing. */
  readonly unsaved: boolean
}

// What `renewLocked` answers when an authorize needs a password that is not at hand.
const needsPassword = Symbol("vedauth/needsPassword")
type NeedsPassword = typeof needsPassword

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

    // The last grant this process saw, when it last matched the store, and whether the store failed
    // to save it. A fresh one is handed out without touching the store for `cacheCheckMillis`.
    const cache = yield* Ref.make(Option.none<Cached>())
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

    // A password given as an effect (a prompt, a vault look-up) runs once per layer, and is resolved
    // before the store's lock is taken: a prompt must not hold up every process sharing the store.
    const givenPassword = options.password
    const resolvedPassword = yield* Ref.make(Option.none<Redacted.Redacted<string>>())
    const askOnce = yield* Effect.makeSemaphore(1)
    const resolvePassword: Effect.Effect<Option.Option<Redacted.Redacted<string>>, VedAuthError.AuthenticationFailed> =
      givenPassword === undefined || Redacted.isRedacted(givenPassword)
        ? Effect.succeed(Option.fromNullable(givenPassword))
        : askOnce.withPermits(1)(Effect.flatMap(Ref.get(resolvedPassword), (known) =>
          Option.isSome(known)
            ? Effect.succeed(known)
            : Effect.map(Effect.tap(givenPassword, (p) => Ref.set(resolvedPassword, Option.some(p))), Option.some)))
    // True when an authorize can run without asking for the password.
    const passwordAtHand: Effect.Effect<boolean> = givenPassword === undefined || Redacted.isRedacted(givenPassword)
      ? Effect.succeed(true)
      : Effect.map(Ref.get(resolvedPassword), Option.isSome)

    const authorize = Effect.fn("VedAuth.authorize")(function*(request?: AuthorizeRequest) {
      const noCredentials = new VedAuthError.AuthenticationFailed({
        description: "no Windows credentials configured (username and password, e.g. VEDAUTH_USERNAME and VEDAUTH_PASSWORD)"
      })
      if (options.username === undefined || options.username === "" || givenPassword === undefined) return yield* noCredentials
      const resolved = yield* resolvePassword
      if (Option.isNone(resolved)) return yield* noCredentials
      const windowsPassword = resolved.value
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
        credentials: { domain, username, password: windowsPassword }
      }).pipe(withTimeout(endpointUrl("authorize/integrated")))
      const answer: http.Answer = { status: response.status, reason: response.reason, body: new TextDecoder().decode(response.body) }
      const secrets = [windowsPassword]
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

    const rememberAs = (unsaved: boolean) => (grant: Grant.Grant) =>
      Effect.flatMap(Clock.currentTimeMillis, (checkedAt) =>
        Effect.as(
          Ref.set(cache, Option.some({ grant, checkedAt, unsaved, freshUntil: freshUntilMillis(grant, options.refreshWindow) })),
          grant
        ))
    const remember = rememberAs(false)
    // The new pair is in the store before anyone can use it: a crash after the refresh loses nothing.
    // If the store cannot take it, the old pair is already spent at the server: keep the new one in
    // memory so that this process goes on working, and say so, then fail.
    const storeAndRemember = (grant: Grant.Grant) =>
      store.set(key, grant).pipe(
        Effect.tapError((error) =>
          Effect.zipRight(
            rememberAs(true)(grant),
            Effect.logWarning("vedauth: the new grant could not be saved; this process keeps it in memory only", error.message)
          )
        ),
        Effect.zipRight(remember(grant))
      )

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

    // A refresh token the server refused: the next pass under the lock authorizes without trying it again.
    const spentRefresh = yield* Ref.make(Option.none<Redacted.Redacted<string>>())
    const isSpent = (grant: Grant.Grant) =>
      Effect.map(Ref.get(spentRefresh), (spent) =>
        Option.isSome(spent) && Option.exists(grant.refreshToken, (token) => sameToken(token, spent.value)))

    // The grant to renew from: the stored one, unless this process holds a newer one the store failed to save.
    const newest = (stored: Option.Option<Grant.Grant>, cached: Option.Option<Cached>): Option.Option<Grant.Grant> => {
      const unsaved = Option.filter(cached, (entry) => entry.unsaved)
      if (Option.isNone(unsaved)) return stored
      if (Option.isNone(stored)) return Option.some(unsaved.value.grant)
      return DateTime.greaterThan(unsaved.value.grant.issuedAt, stored.value.issuedAt) ? Option.some(unsaved.value.grant) : stored
    }

    // Whether renewing from this grant may take an authorize (and so the password).
    const mayAuthorize = (grant: Option.Option<Grant.Grant>, rejected: Option.Option<Redacted.Redacted<string>>, now: DateTime.Utc) => {
      if (Option.isNone(grant)) return true
      const state = stateAt(grant.value, now)
      const wasRejected = Option.exists(rejected, (token) => sameToken(token, grant.value.accessToken))
      return state === "ended" || ((state === "renew" || wasRejected) && !grant.value.canRefreshAt(now))
    }

    /**
     * Runs under the store's lock: re-reads the store (another process may have renewed while we
     * waited), then refreshes, or re-authorizes when the grant has ended or its refresh token is
     * spent. `rejected` is an access token a resource server refused: never hand it out again.
     * An authorize whose password is not at hand is not run here: `NeedsPassword` sends the caller
     * to get it outside the lock and come back.
     */
    const renewLocked = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function*() {
        const authorizeIfPasswordAtHand = Effect.flatMap(
          passwordAtHand,
          (atHand): Effect.Effect<Grant.Grant | NeedsPassword, VedAuthError.VedAuthError> =>
            atHand ? authorizeAndStore : Effect.succeed(needsPassword)
        )
        const now = yield* DateTime.now
        const cached = yield* Ref.get(cache)
        const current = newest(yield* store.get(key), cached)
        if (Option.isNone(current)) return yield* authorizeIfPasswordAtHand
        const grant = current.value
        const wasRejected = Option.exists(rejected, (token) => sameToken(token, grant.accessToken))
        const state = stateAt(grant, now)
        if (state === "fresh" && !wasRejected) {
          // Our unsaved grant stays marked unsaved; one from the store is remembered as seen there.
          return Option.exists(cached, (entry) => entry.grant === grant) ? grant : yield* remember(grant)
        }
        if (state === "ended" || !grant.canRefreshAt(now) || (yield* isSpent(grant))) return yield* authorizeIfPasswordAtHand
        return yield* exchange(grant).pipe(
          Effect.flatMap(storeAndRemember),
          Effect.catchTag("InvalidGrant", (error) =>
            Effect.zipRight(
              Effect.zipRight(
                Ref.set(spentRefresh, grant.refreshToken),
                Effect.logInfo("vedauth: the refresh token was refused, authorizing again", error.message)
              ),
              authorizeIfPasswordAtHand
            ))
        )
      })

    const renew = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function*() {
        // A look before the lock: when an authorize is likely, get the password now, not under the lock.
        if (mayAuthorize(newest(yield* store.get(key), yield* Ref.get(cache)), rejected, yield* DateTime.now)) {
          yield* resolvePassword
        }
        const first = yield* store.withLock(key, renewLocked(rejected))
        if (first !== needsPassword) return first
        yield* resolvePassword
        const second = yield* store.withLock(key, renewLocked(rejected))
        if (second !== needsPassword) return second
        return yield* new VedAuthError.AuthenticationFailed({ description: "the password could not be obtained" })
      })

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

    /**
     * Whether the cached grant is still the one to use, after `cacheCheckMillis`: another process
     * may have rotated the grant (the CLI's refresh, a replica after a 401), which kills our token.
     * `None` sends the caller to the store and a renewal.
     */
    const recheck = (cached: Cached, now: DateTime.Utc) =>
      store.get(key).pipe(
        Effect.flatMap((stored): Effect.Effect<Option.Option<Grant.Grant>> => {
          if (Option.isNone(stored)) return Effect.succeed(cached.unsaved ? Option.some(cached.grant) : Option.none())
          if (sameToken(stored.value.accessToken, cached.grant.accessToken) || !DateTime.greaterThanOrEqualTo(stored.value.issuedAt, cached.grant.issuedAt)) {
            // Still ours, or older than ours (ours failed to save): keep it, look again later.
            return Effect.as(Ref.set(cache, Option.some({ ...cached, checkedAt: now.epochMillis })), Option.some(cached.grant))
          }
          return stateAt(stored.value, now) === "fresh" ? Effect.map(remember(stored.value), Option.some) : Effect.succeedNone
        }),
        // A store that cannot be read right now does not make the cached token any worse.
        Effect.catchAll((error) =>
          Effect.as(Effect.logDebug("vedauth: could not re-read the token store", error.message), Option.some(cached.grant))
        )
      )

    // Everything past the in-memory cache: the store, and a renewal when the grant is stale.
    const managedGrantSlow = (now: DateTime.Utc, cached: Option.Option<Cached>) =>
      Effect.gen(function*() {
        if (Option.isSome(cached) && stateAt(cached.value.grant, now) === "fresh") {
          const checked = yield* recheck(cached.value, now)
          if (Option.isSome(checked)) return checked.value
        }
        const stored = yield* store.get(key)
        if (Option.isSome(stored) && stateAt(stored.value, now) === "fresh") return yield* remember(stored.value)
        return yield* singleFlight(renew(Option.none()))
      }).pipe(Effect.withSpan("VedAuth.grant"))

    // The hot path is a Ref read and a clock read, with no span: a span captures a stack trace and
    // would cost more than the rest of the call. Spans start where I/O may happen.
    const managedGrant: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError> = Effect.flatMap(
      Effect.zip(Clock.currentTimeMillis, Ref.get(cache)),
      ([now, cached]) =>
        Option.isSome(cached) && now - cached.value.checkedAt < cacheCheckMillis && now < cached.value.freshUntil
          ? Effect.succeed(cached.value.grant)
          : managedGrantSlow(DateTime.unsafeMake(now), cached)
    )

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
      // The password first: a prompt must not run while holding the store's lock.
      login: Effect.zipRight(resolvePassword, store.withLock(key, authorizeAndStore)).pipe(Effect.withSpan("VedAuth.login")),
      refresh,
      verify,
      revoke,
      isAuthServer: isAuthServer(),
      grant: managedGrant,
      accessToken: Effect.map(managedGrant, (grant) => grant.accessToken),
      session,
      httpClient: withAuthorization
    }
    return service
  })
