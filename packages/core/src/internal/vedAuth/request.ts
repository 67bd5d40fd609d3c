import type { HttpClient, HttpClientRequest } from "@effect/platform"
import { Duration, Effect, type Redacted, Schema } from "effect"
import * as Grant from "../../Grant.js"
import type { Options } from "../../VedAuth.js"
import * as VedAuthError from "../../VedAuthError.js"
import * as errors from "../errors.js"
import * as http from "../http.js"

/** @internal */
export const defaultRequestTimeout = Duration.seconds(30)

/** @internal */
export const jsonHeaders = { "content-type": "application/json", accept: "application/json" } as const

/**
 * How the service's calls reach the server: each bounded by the request timeout, the answer read
 * whole.
 *
 * @internal
 */
export const makeRequests = (client: HttpClient.HttpClient, options: Options) => {
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

  return { withTimeout, send }
}

/** @internal */
export type Requests = ReturnType<typeof makeRequests>

/**
 * A grant from a 200 answer of authorize or authorize/token.
 *
 * @internal
 */
export const decodeGrant = (endpoint: errors.Endpoint, answer: http.Answer, secrets: ReadonlyArray<Redacted.Redacted<string>>) =>
  http.parseJson(endpoint, answer, secrets).pipe(
    Effect.flatMap(Schema.decodeUnknown(Grant.GrantResponse, { onExcessProperty: "ignore" })),
    Effect.mapError((error) =>
      error._tag === "ParseError" ? errors.undecodable(endpoint, answer.status, answer.reason, "a grant", secrets) : error
    )
  )
