/**
 * The simulator in memory: an NtlmTransport that runs the real client half of core's NTLM against
 * the handler (one in-memory connection per handshake), and an HttpClient that routes to it.
 */
import { HttpClient, HttpClientError, HttpClientResponse } from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import type { NtlmTransport } from "@vedauth/core"
import { Ntlm, VedAuthError } from "@vedauth/core"
import { Effect } from "effect"
import type { SimResponse } from "./http.js"
import type { Service } from "./simulator.js"
import { fromBase64, toBase64 } from "./tokens.js"

const offeredHeaders = (response: SimResponse): ReadonlyArray<string> => {
  const value = response.headers["www-authenticate"]
  return value === undefined ? [] : typeof value === "string" ? [value] : value
}

const challengeIn = (response: SimResponse): Uint8Array | undefined => {
  for (const header of offeredHeaders(response)) {
    const match = /^\s*(NTLM|Negotiate)\s+(\S+)\s*$/i.exec(header)
    if (match !== null) return fromBase64(match[2]!)
  }
  return undefined
}

const flatHeaders = (response: SimResponse): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(response.headers)) out[name] = typeof value === "string" ? value : value.join(", ")
  return out
}

const lower = (headers: Readonly<Record<string, string>>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}

/** @internal */
export const ntlmTransport = (simulator: Service): NtlmTransport.Service => ({
  request: (request) =>
    Effect.gen(function*() {
      const url = yield* Effect.try({
        try: () => new URL(request.url),
        catch: () => new VedAuthError.TransportError({ detail: "invalid URL" })
      })
      const path = url.pathname + url.search
      const user = `${request.credentials.domain}\\${request.credentials.username}`
      const connection = yield* simulator.connect()
      const send = (authorization: string, body: Uint8Array) =>
        simulator.handle(connection, {
          method: request.method,
          path,
          headers: { ...lower(request.headers), host: url.host, authorization, "content-length": String(body.length) },
          body
        })
      const negotiate = Ntlm.negotiate(request.credentials.workstation === undefined ? {} : { workstation: request.credentials.workstation })
      // NEGOTIATE on the first request (two round trips, as curl --ntlm); a server that offers only
      // Negotiate answers the NTLM header with its offer, and the same token goes again under it.
      let scheme: "NTLM" | "Negotiate" = "NTLM"
      let answer = yield* send(`NTLM ${toBase64(negotiate)}`, new Uint8Array(0))
      const offers = (name: string) => offeredHeaders(answer).some((header) => header.trim().toLowerCase() === name.toLowerCase())
      if (answer.connection !== "drop" && challengeIn(answer) === undefined && answer.status === 401 && offers("Negotiate")) {
        scheme = "Negotiate"
        answer = yield* send(`Negotiate ${toBase64(negotiate)}`, new Uint8Array(0))
      }
      if (answer.connection === "drop") {
        return yield* new VedAuthError.NtlmProtocolError({ detail: "the server closed the connection after NEGOTIATE" })
      }
      const challengeBytes = challengeIn(answer)
      if (challengeBytes === undefined) {
        if (answer.status !== 401) return { status: answer.status, reason: answer.reason, headers: flatHeaders(answer), body: answer.body }
        return yield* new VedAuthError.NtlmProtocolError({ detail: "the server offered no NTLM challenge", status: answer.status, reason: answer.reason })
      }
      const challenge = yield* Ntlm.parseChallenge(challengeBytes)
      if (answer.connection === "close") {
        return yield* new VedAuthError.NtlmProtocolError({ detail: "the server closed the connection after the CHALLENGE" })
      }
      const authenticate = yield* Ntlm.authenticate({
        negotiate,
        challenge,
        domain: request.credentials.domain,
        username: request.credentials.username,
        password: request.credentials.password,
        targetName: `HTTP/${url.hostname}`,
        ...(request.credentials.workstation === undefined ? {} : { workstation: request.credentials.workstation })
      })
      const final = yield* send(`${scheme} ${toBase64(authenticate)}`, request.body ?? new Uint8Array(0))
      if (final.connection === "drop") return yield* new VedAuthError.TransportError({ detail: "the server closed the connection", url: request.url })
      if (final.status === 401 && offeredHeaders(final).some((header) => /^\s*(NTLM|Negotiate)\s*$/i.test(header))) {
        return yield* new VedAuthError.AuthenticationFailed({ status: 401, reason: final.reason, user })
      }
      return { status: final.status, reason: final.reason, headers: flatHeaders(final), body: final.body }
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
  return Effect.fail(new HttpClientError.RequestError({ request, reason: "Encode", description: `the in-memory client cannot send a ${body._tag} body` }))
}

/** @internal */
export const httpClient = (simulator: Service): HttpClient.HttpClient =>
  HttpClient.make((request, url) =>
    Effect.gen(function*() {
      const body = yield* bodyBytes(request)
      const headers: Record<string, string> = { ...request.headers, host: url.host, "content-length": String(body.length) }
      const contentType = request.body._tag === "Empty" ? undefined : request.body.contentType
      if (contentType !== undefined && headers["content-type"] === undefined) headers["content-type"] = contentType
      const connection = yield* simulator.connect()
      const response = yield* simulator.handle(connection, { method: request.method, path: url.pathname + url.search, headers, body })
      if (response.connection === "drop") {
        return yield* new HttpClientError.RequestError({ request, reason: "Transport", description: "the server closed the connection" })
      }
      const webHeaders = new Headers()
      for (const [name, value] of Object.entries(response.headers)) {
        for (const item of typeof value === "string" ? [value] : value) webHeaders.append(name, item)
      }
      const hasBody = response.status !== 204 && response.status !== 304
      return HttpClientResponse.fromWeb(request, new Response(hasBody ? new Uint8Array(response.body) : null, { status: response.status, statusText: response.reason, headers: webHeaders }))
    })
  )
