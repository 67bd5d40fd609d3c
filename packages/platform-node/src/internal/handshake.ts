/** The NTLM handshake over HTTP: NEGOTIATE with the first request, AUTHENTICATE with the body, one connection. */
import { Duration, Effect, Either } from "effect"
import type * as Net from "node:net"
import * as Ntlm from "@vedauth/core/Ntlm"
import type * as NtlmTransport from "@vedauth/core/NtlmTransport"
import { AuthenticationFailed, NtlmProtocolError, TransportError } from "@vedauth/core/VedAuthError"
import { exchange, SocketRefused, type Exchange } from "./exchange.js"
import type * as Http from "node:http"
import { urlToHttpOptions } from "node:url"

/** @internal */
export type Scheme = "NTLM" | "Negotiate"

/** @internal */
export interface HandshakeStats {
  readonly url: string
  readonly scheme: Scheme
  readonly roundTrips: number
  readonly sockets: number
  readonly status: number
}

/** @internal */
export interface HandshakeSettings {
  readonly makeAgent: (url: URL) => Http.Agent
  readonly connectTimeout: Duration.Duration
  readonly responseTimeout: Duration.Duration
  readonly maxBodyBytes: number
  readonly scheme: Scheme
  readonly sendTargetName: boolean
  /** Remembers, per origin, a scheme the server turned out to accept, to save a round trip next time. */
  readonly schemeCache: Map<string, Scheme>
  readonly onHandshake: ((stats: HandshakeStats) => void) | undefined
}

interface Offer {
  readonly scheme: string
  readonly token: string | undefined
}

/** `WWW-Authenticate` values as sent (Node would join repeated headers with ", "); commas split too. */
const offers = (response: Exchange): ReadonlyArray<Offer> =>
  (response.distinct["www-authenticate"] ?? [])
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value.length > 0)
    .map((value) => {
      const [scheme = "", token] = value.split(/\s+/, 2)
      return { scheme: scheme.toLowerCase(), token: token !== undefined && token.length > 0 ? token : undefined }
    })

const tokenFor = (response: Exchange, scheme: Scheme): Uint8Array | undefined => {
  const offer = offers(response).find((o) => o.scheme === scheme.toLowerCase() && o.token !== undefined)
  return offer?.token === undefined ? undefined : new Uint8Array(Buffer.from(offer.token, "base64"))
}

const offered = (response: Exchange, scheme: Scheme): boolean =>
  offers(response).some((o) => o.scheme === scheme.toLowerCase())

const userOf = (credentials: NtlmTransport.Credentials): string =>
  credentials.domain === "" ? credentials.username : `${credentials.domain}\\${credentials.username}`

const text = (body: Uint8Array): string | undefined => {
  const value = Buffer.from(body).toString("utf8").trim()
  return value.length === 0 ? undefined : value.slice(0, 500)
}

// The VEDauth application's own 401 texts; IIS may add its challenge headers to them, but they are
// answers of an authenticated request, not a refusal of the Windows credentials.
const APPLICATION_401 = /Failed to issue grant|Unhandled identity claim/i

const protocolError = (detail: string, response?: Exchange) =>
  new NtlmProtocolError({
    detail,
    ...(response === undefined ? {} : { status: response.status, reason: response.reason })
  })

/** @internal */
export const handshake = (settings: HandshakeSettings, request: NtlmTransport.Request) =>
  Effect.suspend(() => {
    let url: URL
    try {
      url = new URL(request.url)
    } catch {
      return Effect.fail(new TransportError({ detail: "not a valid URL" }))
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return Effect.fail(new TransportError({ detail: `unsupported protocol ${url.protocol}`, url: request.url }))
    }
    const parsed = url
    // The agent is the handshake's only resource: created and destroyed here, without a Scope.
    return Effect.acquireUseRelease(
      Effect.sync(() => settings.makeAgent(parsed)),
      (agent) => run(settings, request, parsed, agent),
      (agent) => Effect.sync(() => agent.destroy())
    )
  }).pipe(
    Effect.map(({ response, roundTrips, scheme, sockets }): NtlmTransport.Response => {
      settings.onHandshake?.({ url: request.url, scheme, roundTrips, sockets, status: response.status })
      return {
        status: response.status,
        reason: response.reason,
        headers: lowerCaseHeaders(response.headers),
        body: response.body
      }
    }),
    Effect.catchIf((e): e is SocketRefused => e instanceof SocketRefused, (e) => Effect.fail(protocolError(e.reason)))
  )

const lowerCaseHeaders = (headers: Http.IncomingHttpHeaders): Record<string, string> => {
  const result: Record<string, string> = {}
  for (const name in headers) {
    const value = headers[name]
    if (value !== undefined) result[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value
  }
  return result
}

const run = (settings: HandshakeSettings, request: NtlmTransport.Request, url: URL, agent: Http.Agent) =>
  Effect.gen(function*() {
    const { credentials } = request
    const sockets = new Set<Net.Socket>()
    let roundTrips = 0
    // Per handshake, not per request: the request options of the URL and the timeout's error.
    const target = urlToHttpOptions(url)
    const connectTimeoutMs = Duration.toMillis(settings.connectTimeout)
    const onResponseTimeout = () =>
      new TransportError({
        detail: `no response within ${Duration.format(settings.responseTimeout)}`,
        url: url.origin + url.pathname
      })
    const onSocket = (socket: Net.Socket) => void sockets.add(socket)
    const send = (
      authorization: string,
      body: Uint8Array | undefined,
      checkSocket?: (socket: Net.Socket, reused: boolean) => string | undefined
    ) => {
      roundTrips++
      const headers: Record<string, string> = { ...request.headers, authorization }
      // The NEGOTIATE request of a POST carries no body: it would be sent twice otherwise.
      if (request.method === "POST" || body !== undefined) headers["content-length"] = String(body?.length ?? 0)
      return exchange({
        url,
        target,
        agent,
        method: request.method,
        headers,
        body,
        connectTimeoutMs,
        responseTimeout: settings.responseTimeout,
        onResponseTimeout,
        maxBodyBytes: settings.maxBodyBytes,
        onSocket,
        ...(checkSocket === undefined ? {} : { checkSocket })
      })
    }

    const negotiate = Ntlm.negotiate({ domain: credentials.domain, ...(credentials.workstation === undefined ? {} : { workstation: credentials.workstation }) })
    const negotiateHeader = (scheme: Scheme) => `${scheme} ${Buffer.from(negotiate).toString("base64")}`
    const origin = url.origin
    let scheme: Scheme = settings.scheme === "NTLM" ? settings.schemeCache.get(origin) ?? "NTLM" : settings.schemeCache.get(origin) ?? "Negotiate"

    let first = yield* send(negotiateHeader(scheme), undefined)
    let token = first.status === 401 ? tokenFor(first, scheme) : undefined
    if (first.status === 401 && token === undefined) {
      // Our scheme was not taken. A server that offers only the other one (IIS with Negotiate alone
      // accepts raw NTLMSSP in it) gets the NEGOTIATE again under that name: one more round trip.
      const other: Scheme = scheme === "NTLM" ? "Negotiate" : "NTLM"
      if (!offered(first, other)) {
        const schemes = offers(first).map((o) => o.scheme).join(", ") || "none"
        return yield* protocolError(`the server offers no NTLM authentication (WWW-Authenticate: ${schemes})`, first)
      }
      scheme = other
      first = yield* send(negotiateHeader(scheme), undefined)
      token = first.status === 401 ? tokenFor(first, scheme) : undefined
    }
    if (first.status !== 401) {
      // No authentication asked for. Without a body the answer stands; with one, the request was not sent whole.
      if (request.body === undefined || request.body.length === 0) return { response: first, roundTrips, sockets: sockets.size, scheme }
      return yield* protocolError(`the server answered the NTLM NEGOTIATE with HTTP ${first.status} instead of a challenge`, first)
    }
    if (token === undefined) return yield* protocolError(`the server sent no ${scheme} challenge`, first)
    settings.schemeCache.set(origin, scheme)

    const challenge = yield* Either.match(Ntlm.parseChallenge(token), {
      onLeft: (error) => Effect.fail(new NtlmProtocolError({ detail: error.detail, status: first.status, reason: first.reason })),
      onRight: Effect.succeed
    })
    const closing = String(first.headers.connection ?? "").toLowerCase().includes("close")
    if (closing || first.socket.destroyed) {
      return yield* protocolError("the server closed the connection after its CHALLENGE; NTLM needs one kept-alive connection", first)
    }
    let channelBindings: Uint8Array | undefined
    if (first.peerCertificate !== undefined) {
      channelBindings = yield* Either.match(Ntlm.tlsServerEndPoint(first.peerCertificate), {
        onLeft: Effect.fail,
        onRight: Effect.succeed
      })
    }
    const authenticate = yield* Ntlm.authenticate({
      negotiate,
      challenge,
      domain: credentials.domain,
      username: credentials.username,
      password: credentials.password,
      ...(credentials.workstation === undefined ? {} : { workstation: credentials.workstation }),
      ...(channelBindings === undefined ? {} : { channelBindings }),
      ...(settings.sendTargetName ? { targetName: `HTTP/${url.hostname}` } : {})
    })
    const authorization = `${scheme} ${Buffer.from(authenticate).toString("base64")}`
    const final = yield* send(authorization, request.body ?? (request.method === "POST" ? new Uint8Array(0) : undefined), (socket, reused) =>
      socket === first.socket && reused ? undefined : "the connection of the NTLM handshake closed before AUTHENTICATE could be sent"
    ).pipe(Effect.catchIf((e): e is SocketRefused => e instanceof SocketRefused, (e) => protocolError(e.reason)))

    if (final.status === 401) {
      const again = offers(final).filter((o) => o.scheme === "ntlm" || o.scheme === "negotiate")
      const body = text(final.body)
      if (again.length > 0 && !(body !== undefined && APPLICATION_401.test(body))) {
        const user = userOf(credentials)
        return yield* new AuthenticationFailed({
          user,
          description: `the server rejected the Windows credentials of ${user}`,
          status: final.status,
          reason: final.reason
        })
      }
    }
    return { response: final, roundTrips, sockets: sockets.size, scheme }
  })
