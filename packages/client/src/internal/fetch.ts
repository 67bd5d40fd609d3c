/**
 * `client.fetch`: the platform's own `fetch` and `Response` under the managed grant's bearer
 * middleware (`VedAuth.Service.httpClient`), so the token, the one renewal and retry on a 401 and
 * the 403 as `InsufficientScope` are the library's, not a second implementation.
 */
import { HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import * as VedAuth from "@vedauth/core/VedAuth"
import { Effect } from "effect"
import { VedAuthClientError } from "../VedAuthClientError.js"
import type { Fetch } from "./options.js"

// A string or URL is read against the server's URL (`vedsdk/certificates/` works); the token goes
// to the server's origin only, never to another host a caller's URL happens to name.
const target = (input: string | URL | Request, server: string): Effect.Effect<URL, VedAuthClientError> =>
  Effect.try({
    try: () => new URL(input instanceof Request ? input.url : input, server.endsWith("/") ? server : `${server}/`),
    catch: () => new VedAuthClientError("InvalidArgument", "InvalidArgument: fetch needs a URL")
  }).pipe(
    Effect.filterOrFail(
      (url) => url.origin === new URL(server).origin,
      (url) =>
        new VedAuthClientError(
          "InvalidArgument",
          `InvalidArgument: fetch sends the token to ${new URL(server).origin} only, not to ${url.origin}`
        )
    )
  )

/**
 * One call of `client.fetch`. A retried request is sent again as given: its body must be one that
 * can be sent twice (a string, bytes, a Blob, form data), not a stream.
 *
 * @internal
 */
export const bearerFetch = (fetch: Fetch, input: string | URL | Request, init: RequestInit | undefined) =>
  Effect.gen(function*() {
    const service = yield* VedAuth.VedAuth
    const url = yield* target(input, service.options.url)
    let last: Response | undefined
    const send = HttpClient.make((request, _url, signal) =>
      Effect.tryPromise({
        try: async () => {
          // The refused answer before the retry: its body is not wanted and would hold the connection.
          await last?.body?.cancel().catch(() => undefined)
          const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
          headers.set("authorization", request.headers["authorization"] ?? "")
          last = await fetch(input instanceof Request ? input : url, { ...init, headers, signal })
          return HttpClientResponse.fromWeb(request, last)
        },
        catch: (cause) =>
          new HttpClientError.RequestError({
            request,
            reason: "Transport",
            cause,
            description: cause instanceof Error ? cause.message : String(cause)
          })
      })
    )
    yield* service.httpClient(send).execute(HttpClientRequest.get(url))
    // The middleware returned the last answer (a 401 or 403 fails instead): the caller reads its body.
    return last!
  })
