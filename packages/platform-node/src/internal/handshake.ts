/** The NTLM handshake over HTTP: NEGOTIATE with the first request, AUTHENTICATE with the body, one connection. */
import { Duration, Effect, Either } from "effect"
import type * as Net from "node:net"
import * as Ntlm from "@vedauth/core/Ntlm"
import type * as NtlmTransport from "@vedauth/core/NtlmTransport"
import { AuthenticationFailed, NtlmProtocolError, TransportError } from "@vedauth/core/VedAuthError"
import { exchange, SocketRefused, type Exchange } from "./exchange.js"
import type * as Http from "node:http"

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
  Effect.gen(function*() {
    const url = yield* Effect.try({
      try: () => new URL(request.url),
      catch: () => new TransportError({ detail: "not a valid URL" })
    })
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return yield* new TransportError({ detail: `unsupported protocol ${url.protocol}`, url: request.url })
    }
    const { credentials } = request
    const agent = yield* Effect.acquireRelease(Effect.sync(() => settings.makeAgent(url)), (agent) => Effect.sync(() => agent.destroy()))
    const sockets = new Set<Net.Socket>()
    let roundTrips = 0
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
        agent,
        method: request.method,
        headers,
        body,
        connectTimeoutMs: Duration.toMillis(settings.connectTimeout),
        maxBodyBytes: settings.maxBodyBytes,
        onSocket: (socket) => sockets.add(socket),
        ...(checkSocket === undefined ? {} : { checkSocket })
      }).pipe(
        Effect.timeoutFail({
          duration: settings.responseTimeout,
          onTimeout: () =>
            new TransportError({
              detail: `no response within ${Duration.format(settings.responseTimeout)}`,
              url: url.origin + url.pathname
            })
        })
      )
    }

    const negotiate = Ntlm.negotiate({ domain: credentials.domain, ...(credentials.workstation === undefined ? {} : { workstation: credentials.workstation }) })
    const negotiateHeader = (scheme: Scheme) => `${scheme} ${Buffer.from(negotiate).toString("base64")}`
    const origin = url.origin
    let scheme: Scheme = settings.scheme === "NTLM" ? settings.schemeCache.get(origin) ?? "NTLM" : settings.schemeCache.get(origin) ?? "Negotiate"

    let first = yield* send(negotiateHeader(scheme), undefined)
    if (first.status === 401 && tokenFor(first, scheme) === undefined) {
      // Our scheme was not taken. A server that offers only the other one (IIS with Negotiate alone
      // accepts raw NTLMSSP in it) gets the NEGOTIATE again under that name: one more round trip.
      const other: Scheme = scheme === "NTLM" ? "Negotiate" : "NTLM"
      if (!offered(first, other)) {
        const schemes = offers(first).map((o) => o.scheme).join(", ") || "none"
        return yield* protocolError(`the server offers no NTLM authentication (WWW-Authenticate: ${schemes})`, first)
      }
      scheme = other
      first = yield* send(negotiateHeader(scheme), undefined)
    }
    if (first.status !== 401) {
      // No authentication asked for. Without a body the answer stands; with one, the request was not sent whole.
      if (request.body === undefined || request.body.length === 0) return { response: first, roundTrips, sockets: sockets.size, scheme }
      return yield* protocolError(`the server answered the NTLM NEGOTIATE with HTTP ${first.status} instead of a challenge`, first)
    }
    const token = tokenFor(first, scheme)
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
  }).pipe(
    Effect.tap((result) =>
      Effect.sync(() =>
        settings.onHandshake?.({ url: request.url, scheme: result.scheme, roundTrips: result.roundTrips, sockets: result.sockets, status: result.response.status })
      )
    ),
    Effect.map(({ response }): NtlmTransport.Response => ({
      status: response.status,
      reason: response.reason,
      headers: Object.fromEntries(
        Object.entries(response.headers).flatMap(([name, value]) =>
          value === undefined ? [] : [[name.toLowerCase(), Array.isArray(value) ? value.join(", ") : value]]
        )
      ),
      body: response.body
    })),
    Effect.catchIf((e): e is SocketRefused => e instanceof SocketRefused, (e) => Effect.fail(protocolError(e.reason))),
    Effect.scoped
  )
