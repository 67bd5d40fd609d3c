/** The bearer-token `HttpClient` middleware of the managed grant. */
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"
import type * as VedAuthError from "../VedAuthError.js"
import * as errors from "./errors.js"
import * as http from "./http.js"
import type { ManagedGrant } from "./managedGrant.js"

/**
 * Wraps a client: the managed grant's bearer token on every request, one renewal and one retry on
 * a 401, a 403 as `InsufficientScope`.
 *
 * @internal
 */
export const withBearer =
  (managed: ManagedGrant) =>
  <E, R>(inner: HttpClient.HttpClient.With<E, R>): HttpClient.HttpClient.With<E | VedAuthError.VedAuthError, R> =>
    HttpClient.makeWith<never, never, E | VedAuthError.VedAuthError, R>(
      (requestEffect) =>
        Effect.gen(function*() {
          const request = yield* requestEffect
          const grant = yield* managed.grant
          // Every token sent on this request's behalf: scrubbed from whatever the server answers.
          const sent = [grant.accessToken]
          let response = yield* inner.execute(HttpClientRequest.bearerToken(request, grant.accessToken))
          if (response.status === 401) {
            // The token was refused before its time (revoked, or rotated by another process): renew once, retry once.
            const renewed = yield* managed.renewRejected(grant.accessToken)
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
