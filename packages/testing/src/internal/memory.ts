/**
 * The simulator in memory: an NtlmTransport that runs the real client half of core's NTLM against
 * the handler (one in-memory connection per handshake), and an HttpClient that routes to it.
 */
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import type { NtlmTransport } from "@vedauth/core"
import { VedAuthError, WindowsAuthHandshake } from "@vedauth/core"
import { Effect } from "effect"
import type { ClientCertificateInfo } from "./context.js"
import type { SimResponse } from "./http.js"
import type { Service } from "./simulator.js"

const flatHeaders = (response: SimResponse): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    out[name] = typeof value === "string"
      ? value
      : value.join(", ")
  }
  return out
}

const challenges = (response: SimResponse): ReadonlyArray<string> => {
  const value = response.headers["www-authenticate"]
  return value === undefined ? [] : typeof value === "string" ? [value] : value
}

const lower = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}

/**
 * Core's `WindowsAuthHandshake` (the one the Node and Deno transports run) over one in-memory connection
 * to the simulator's handler. A connection the server drops is a `TransportError`, as a socket's is.
 *
 * @internal
 */
export const ntlmTransport = (simulator: Service): NtlmTransport.Service => ({
  request: (request) =>
    Effect.gen(function*() {
      const url = yield* Effect.try({
        try: () => new URL(request.url),
        catch: () => new VedAuthError.TransportError({ detail: "invalid URL" })
      })
      const path = url.pathname + url.search
      const connection = yield* simulator.connect()
      const send = (step: WindowsAuthHandshake.Step) =>
        simulator.handle(connection, {
          method: request.method,
          path,
          headers: {
            ...lower(request.headers),
            host: url.host,
            ...(step.authorization === undefined ? {} : { authorization: step.authorization }),
            ...(request.method === "POST" || step.body !== undefined
              ? { "content-length": String(step.body?.length ?? 0) }
              : {})
          },
          body: step.body ?? new Uint8Array(0)
        }).pipe(
          Effect.flatMap((response) =>
            response.connection === "drop"
              ? Effect.fail(
                new VedAuthError.TransportError({
                  detail: "the server closed the connection without an answer",
                  url: request.url
                })
              )
              : Effect.succeed({
                status: response.status,
                reason: response.reason,
                wwwAuthenticate: challenges(response),
                body: response.body,
                closed: response.connection === "close",
                response
              })
          )
        )
      const { answer } = yield* WindowsAuthHandshake.run(request, {
        scheme: "NTLM",
        targetName: `HTTP/${url.hostname}`,
        connection: { peerCertificate: connection.tls?.certificateDer }
      }, send)
      return { status: answer.status, reason: answer.reason, headers: flatHeaders(answer.response), body: answer.body }
    })
})

const bodyBytes = (request: HttpClientRequest.HttpClientRequest) => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
      return Effect.succeed(new Uint8Array(0))
    case "Uint8Array":
      return Effect.succeed(body.body)
    case "Raw":
      if (typeof body.body === "string") return Effect.succeed(new TextEncoder().encode(body.body))
      if (body.body instanceof Uint8Array) return Effect.succeed(body.body)
      break
    default:
      break
  }
  return Effect.fail(
    new HttpClientError.RequestError({
      request,
      reason: "Encode",
      description: `the in-memory client cannot send a ${body._tag} body`
    })
  )
}

/** @internal */
export const httpClient = (simulator: Service, clientCertificate?: ClientCertificateInfo): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const body = yield* bodyBytes(request)
      const headers: Record<string, string> = {
        ...request.headers,
        host: url.host,
        "content-length": String(body.length)
      }
      const contentType = request.body._tag === "Empty" ? undefined : request.body.contentType
      if (contentType !== undefined && headers["content-type"] === undefined) headers["content-type"] = contentType
      // A presented client certificate stands for a verified mutual-TLS connection.
      const connection = yield* simulator.connect(
        clientCertificate === undefined ? {} : { tls: { certificateDer: new Uint8Array(0), clientCertificate } }
      )
      const response = yield* simulator.handle(connection, {
        method: request.method,
        path: url.pathname + url.search,
        headers,
        body
      })
      if (response.connection === "drop") {
        return yield* new HttpClientError.RequestError({
          request,
          reason: "Transport",
          description: "the server closed the connection"
        })
      }
      const webHeaders = new Headers()
      for (const [name, value] of Object.entries(response.headers)) {
        for (const item of typeof value === "string" ? [value] : value) webHeaders.append(name, item)
      }
      const hasBody = response.status !== 204 && response.status !== 304
      return HttpClientResponse.fromWeb(
        request,
        new Response(hasBody ? new Uint8Array(response.body) : null, {
          status: response.status,
          statusText: response.reason,
          headers: webHeaders
        })
      )
    })
  )
