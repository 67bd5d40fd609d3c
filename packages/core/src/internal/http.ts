import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import type { Redacted } from "effect"
import { Effect } from "effect"
import { TransportError } from "../VedAuthError.js"
import * as errors from "./errors.js"

/**
 * A response read whole: VEDauth bodies are small, and its messages live in the reason phrase.
 *
 * @internal
 */
export interface Answer {
  readonly status: number
  readonly reason: string
  readonly body: string
}

/**
 * The HTTP reason phrase. `@effect/platform` does not expose it, but every client implementation
 * keeps the underlying response: fetch's `statusText`, Node's `statusMessage`, undici's getter.
 * HTTP/2 has no reason phrase at all: then it is empty.
 *
 * @internal
 */
export const reasonPhrase = (response: HttpClientResponse.HttpClientResponse): string => {
  type Loose = {
    readonly source?: { readonly statusText?: unknown; readonly statusMessage?: unknown }
    readonly statusText?: unknown
    // HttpClient wraps responses (to tie the body to the request's lifetime) and keeps the original.
    readonly original?: Loose
  }
  let current: Loose | undefined = response as unknown as Loose
  for (let depth = 0; current !== undefined && depth < 8; depth++, current = current.original) {
    for (const candidate of [current.source?.statusText, current.source?.statusMessage, current.statusText]) {
      if (typeof candidate === "string") return candidate
    }
  }
  return ""
}

/**
 * Network, TLS and timeout failures. The message of an `HttpClientError` names the method and URL,
 * never headers, so no bearer token can leak through it.
 *
 * @internal
 */
export const transportError = (url: string) => (error: HttpClientError.HttpClientError): TransportError =>
  new TransportError({ detail: error.reason === "Transport" ? error.message : `${error.reason}: ${error.message}`, url })

/**
 * Reads status, reason phrase and body text.
 *
 * @internal
 */
export const readAnswer = (response: HttpClientResponse.HttpClientResponse, url: string): Effect.Effect<Answer, TransportError> =>
  Effect.map(
    Effect.mapError(response.text, transportError(url)),
    (body) => ({ status: response.status, reason: reasonPhrase(response), body })
  )

/**
 * Parses a JSON body of a 200, without ever putting the body in the error.
 *
 * @internal
 */
export const parseJson = (
  endpoint: errors.Endpoint,
  answer: Answer,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
) =>
  Effect.try({
    try: (): unknown => JSON.parse(answer.body),
    catch: () => errors.undecodable(endpoint, answer.status, answer.reason, "JSON", secrets)
  })
