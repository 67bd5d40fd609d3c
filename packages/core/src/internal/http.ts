import type { HttpClientError, HttpClientResponse } from "@effect/platform"
import type { Redacted } from "effect"
import { Effect, Stream } from "effect"
import { TransportError, UnexpectedResponse } from "../VedAuthError.js"
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

// "scheme://user:password@" at the start of a URL, or anywhere in a text (a cause's message may quote one).
const userinfoPattern = /([a-z][a-z0-9+.-]*:\/\/)[^\s/?#]*@/gi

/**
 * True when a URL carries a user name or password (`https://user:pw@host`).
 *
 * @internal
 */
export const hasUserinfo = (url: string): boolean => new RegExp(userinfoPattern.source, "i").test(url)

/**
 * Text with the user name and password of every URL in it removed: what may go into an error.
 *
 * @internal
 */
export const safeUrl = (text: string): string => text.replace(userinfoPattern, "$1")

// Names the underlying failure once: Node nests the useful part (`code`, e.g. ECONNREFUSED or
// CERT_HAS_EXPIRED, and its message) one or two `cause`s down from "fetch failed".
const describeCause = (cause: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = cause
  for (let depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    if (typeof current !== "object") {
      parts.push(String(current))
      break
    }
    const { code, message } = current as { readonly code?: unknown; readonly message?: unknown }
    const text = typeof message === "string" ? message.trim() : ""
    const codeText = typeof code === "string" || typeof code === "number" ? String(code) : ""
    const said = text === "" ? codeText : codeText === "" || text.includes(codeText) ? text : `${codeText}: ${text}`
    if (said !== "" && !parts.some((part) => part.includes(said))) parts.push(said)
    current = (current as { readonly cause?: unknown }).cause
  }
  return parts.join(": ")
}

// Failures that happen before a byte of the request leaves: no route to the server, no name, no
// connection, or a TLS peer that did not verify (the request is written only after the handshake).
const beforeSending = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_NONAME",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "UNABLE_TO_GET_ISSUER_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REVOKED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "ERR_SSL_WRONG_VERSION_NUMBER"
])

/**
 * True when the failure's cause chain names a failure that happens before the request is sent.
 *
 * @internal
 */
export const neverSent = (cause: unknown): boolean => {
  let current: unknown = cause
  for (let depth = 0; typeof current === "object" && current !== null && depth < 4; depth++) {
    const { code } = current as { readonly code?: unknown }
    if (typeof code === "string" && beforeSending.has(code)) return true
    current = (current as { readonly cause?: unknown }).cause
  }
  return false
}

/**
 * Network, TLS and timeout failures: what failed (the underlying code and message, once) and the
 * URL (once, in its own field, without user name or password). An `HttpClientError` never carries
 * headers, so no bearer token can leak through it.
 *
 * @internal
 */
export const transportError = (url: string) => (error: HttpClientError.HttpClientError): TransportError => {
  const what = error.reason === "Transport"
    ? `${error.request.method} failed`
    : `${error.request.method} failed (${error.reason})`
  const said = [error.description, describeCause(error.cause)].filter((part): part is string =>
    part !== undefined && part !== ""
  )
  return new TransportError({
    detail: safeUrl(said.length === 0 ? what : `${what}: ${said.join(": ")}`),
    url: safeUrl(url),
    ...(neverSent(error.cause) ? { requestSent: false } : {})
  })
}

/**
 * The most of a body vedauth reads: VEDauth answers in a few hundred bytes; a server (or something
 * in between) that sends more is not one to trust with memory.
 *
 * @internal
 */
export const maxBodyBytes = 1024 * 1024

/**
 * Reads status, reason phrase and body text; a body over `maxBodyBytes` is `UnexpectedResponse`,
 * found out without reading the rest.
 *
 * @internal
 */
export const readAnswer = (
  response: HttpClientResponse.HttpClientResponse,
  url: string
): Effect.Effect<Answer, TransportError | UnexpectedResponse> => {
  const reason = reasonPhrase(response)
  const tooLarge = () =>
    new UnexpectedResponse({
      status: response.status,
      ...(reason === "" ? {} : { reason }),
      detail: `the response body is larger than ${maxBodyBytes} bytes; not read`
    })
  const declared = Number(response.headers["content-length"])
  if (Number.isFinite(declared) && declared > maxBodyBytes) return Effect.fail(tooLarge())
  return response.stream.pipe(
    Stream.runFoldEffect({ chunks: [] as Array<Uint8Array>, size: 0 }, (read, chunk) => {
      const size = read.size + chunk.length
      if (size > maxBodyBytes) return Effect.fail(tooLarge())
      read.chunks.push(chunk)
      return Effect.succeed({ chunks: read.chunks, size })
    }),
    Effect.map(({ chunks, size }) => {
      const bytes = new Uint8Array(size)
      let offset = 0
      for (const chunk of chunks) {
        bytes.set(chunk, offset)
        offset += chunk.length
      }
      return new TextDecoder().decode(bytes)
    }),
    // No body at all (a 204, or a HEAD-like answer) is an empty one.
    Effect.catchIf(
      (error): error is HttpClientError.ResponseError => error._tag === "ResponseError" && error.reason === "EmptyBody",
      () => Effect.succeed("")
    ),
    Effect.mapError((error): TransportError | UnexpectedResponse =>
      error instanceof UnexpectedResponse ? error : transportError(url)(error)
    ),
    Effect.map((body) => ({ status: response.status, reason, body }))
  )
}

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
