import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, type Redacted } from "effect"
import type * as Grant from "../../Grant.js"
import type * as VedAuthError from "../../VedAuthError.js"
import * as errors from "../errors.js"
import * as http from "../http.js"

/** What the bearer middleware needs from the layer. @internal */
export interface HttpClientContext {
  readonly managedGrant: Effect.Effect<Grant.Grant, VedAuthError.VedAuthError>
  /** Drops the in-memory managed grant, so that nobody else is handed the refused token. */
  readonly forgetCached: Effect.Effect<void>
  /** The renewal after a resource server refused this access token, shared by every fiber that asks while it runs. */
  readonly renewRejected: (token: Redacted.Redacted<string>) => Effect.Effect<Grant.Grant, VedAuthError.VedAuthError>
}

/**
 * Wraps a client: the managed grant's bearer token on every request, one renewal and one retry on
 * a 401, a 403 as `InsufficientScope`.
 *
 * @internal
 */
export const makeWithAuthorization = ({ forgetCached, managedGrant, renewRejected }: HttpClientContext) =>
  <E, R>(inner: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E | VedAuthError.VedAuthError, R> =>
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
            yield* forgetCached
            const renewed = yield* renewRejected(grant.accessToken)
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
