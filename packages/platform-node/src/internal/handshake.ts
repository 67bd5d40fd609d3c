/** The NTLM handshake on node:http: core's `WindowsAuthHandshake` over one dedicated agent and socket, and the stats of each run. */
import type * as NtlmTransport from "@vedauth/core/NtlmTransport"
import { NtlmProtocolError, TransportError } from "@vedauth/core/VedAuthError"
import * as WindowsAuthHandshake from "@vedauth/core/WindowsAuthHandshake"
import { type Clock, Duration, Effect } from "effect"
import type * as Http from "node:http"
import type * as Https from "node:https"
import * as Net from "node:net"
import type * as Tls from "node:tls"
import { urlToHttpOptions } from "node:url"
import { type RoundTrip, roundTrip, SocketRefused } from "./roundTrip.js"

/** @internal */
export type Scheme = WindowsAuthHandshake.Scheme

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
  readonly makeAgent: (url: URL) => Effect.Effect<Http.Agent, TransportError>
  readonly connectTimeout: Duration.Duration
  readonly responseTimeout: Duration.Duration
  readonly maxBodyBytes: number
  readonly scheme: Scheme
  readonly sendTargetName: boolean
  /** Remembers, per origin, a scheme the server turned out to accept, to save a round trip next time. */
  readonly schemeCache: Map<string, Scheme>
  readonly onHandshake: ((stats: HandshakeStats) => void) | undefined
}

const protocolError = (detail: string) => new NtlmProtocolError({ detail })

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
      settings.makeAgent(parsed),
      (agent) => Effect.clockWith((clock) => run(settings, request, parsed, agent, clock)),
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

// Node joins repeated headers with ", "; the handshake wants them as sent.
const answerOf = (response: RoundTrip): WindowsAuthHandshake.Answer & { readonly response: RoundTrip } => ({
  status: response.status,
  reason: response.reason,
  wwwAuthenticate: response.distinct["www-authenticate"] ?? [],
  body: response.body,
  closed: String(response.headers.connection ?? "").toLowerCase().includes("close") || response.socket.destroyed,
  peerCertificate: response.peerCertificate,
  response
})

const run = (
  settings: HandshakeSettings,
  request: NtlmTransport.Request,
  url: URL,
  agent: Http.Agent,
  clock: Clock.Clock
) => {
  const sockets = new Set<Net.Socket>()
  // Per handshake, not per request: the request options of the URL and the timeout's error.
  const target = urlToHttpOptions(url)
  const connectTimeoutMs = Duration.toMillis(settings.connectTimeout)
  const onResponseTimeout = () =>
    new TransportError({
      detail: `no response within ${Duration.format(settings.responseTimeout)}`,
      url: url.origin + url.pathname
    })
  const onSocket = (socket: Net.Socket) => void sockets.add(socket)
  // The caller's bound on the whole handshake (`Request.timeout`), enforced by each round trip's one timer.
  const timeout = request.timeout
  const deadline = timeout === undefined ? undefined : {
    at: clock.unsafeCurrentTimeMillis() + Duration.toMillis(timeout),
    onPassed: () =>
      new TransportError({ detail: `no answer within ${Duration.format(timeout)}`, url: url.origin + url.pathname })
  }
  // The socket the CHALLENGE (or, for Kerberos over TLS, the certificate) came on: the AUTHENTICATE must go out on it, or not at all.
  let challengeSocket: Net.Socket | undefined
  const send = (step: WindowsAuthHandshake.Step) => {
    const headers: Record<string, string> = {
      ...request.headers,
      ...(step.authorization === undefined ? {} : { authorization: step.authorization })
    }
    // The NEGOTIATE request of a POST carries no body: it would be sent twice otherwise.
    if (request.method === "POST" || step.body !== undefined) headers["content-length"] = String(step.body?.length ?? 0)
    const expected = challengeSocket
    return roundTrip({
      url,
      target,
      agent,
      method: request.method,
      headers,
      body: step.body,
      connectTimeoutMs,
      responseTimeout: settings.responseTimeout,
      onResponseTimeout,
      deadline,
      maxBodyBytes: settings.maxBodyBytes,
      onSocket,
      // Kerberos may send its one authenticated request first: there is no earlier connection to keep.
      ...(step.phase === "authenticate" && expected !== undefined
        ? {
          checkSocket: (socket: Net.Socket, reused: boolean) =>
            socket === expected && reused
              ? undefined
              : "the connection of the NTLM handshake closed before AUTHENTICATE could be sent"
        }
        : {})
    }).pipe(
      Effect.map((response) => {
        challengeSocket = response.socket
        return answerOf(response)
      })
    )
  }
  const origin = url.origin
  // Kerberos over TLS binds its AP-REQ to the server's certificate: connect first and read it, so
  // the AP-REQ goes on the first request (on that very socket) instead of after an anonymous one.
  const connectFirst = request.kerberos !== undefined && url.protocol === "https:"
    ? Effect.map(
      preconnect(agent as Https.Agent, url, connectTimeoutMs, onSocket),
      (peerCertificate) => ({ peerCertificate })
    )
    : Effect.succeed(undefined)
  return Effect.flatMap(connectFirst, (connection) =>
    WindowsAuthHandshake.run(request, {
      scheme: settings.schemeCache.get(origin) ?? settings.scheme,
      targetName: settings.sendTargetName ? `HTTP/${url.hostname}` : undefined,
      onScheme: (scheme) => settings.schemeCache.set(origin, scheme),
      connection
    }, send)).pipe(
      Effect.map(({ answer, roundTrips, scheme }) => ({
        response: answer.response,
        roundTrips,
        scheme,
        sockets: sockets.size
      }))
    )
}

/**
 * Opens the agent's TLS connection before any request, returns the server's certificate (DER), and
 * makes that socket the one the agent's first request takes. Through a proxy the agent answers
 * through its callback once the tunnel is open, and the certificate is TPP's, from inside it.
 */
const preconnect = (agent: Https.Agent, url: URL, connectTimeoutMs: number, onSocket: (socket: Net.Socket) => void) =>
  Effect.async<Uint8Array, TransportError>((resume) => {
    const host = url.hostname.replace(/^\[|\]$/g, "")
    const port = Number(url.port === "" ? 443 : url.port)
    // SNI takes names only, as Node's own agent does.
    const servername = Net.isIP(host) === 0 ? host : ""
    let socket: Tls.TLSSocket | undefined
    let interrupted = false
    const fail = (detail: string) => {
      socket?.destroy()
      resume(Effect.fail(new TransportError({ detail, url: url.origin + url.pathname })))
    }
    const watch = (connected: Tls.TLSSocket) => {
      onSocket(connected)
      connected.setTimeout(connectTimeoutMs, () => fail(`connection not established within ${connectTimeoutMs} ms`))
      connected.once("error", (error) => fail(error.message))
      connected.once("secureConnect", () => {
        connected.setTimeout(0)
        connected.removeAllListeners("error")
        const certificate = new Uint8Array(connected.getPeerCertificate().raw ?? new Uint8Array(0))
        const own = agent.createConnection.bind(agent)
        // One use: the next request of this agent takes the socket already connected.
        agent.createConnection = ((): Net.Socket => {
          agent.createConnection = own
          return connected
        }) as typeof agent.createConnection
        resume(Effect.succeed(certificate))
      })
    }
    // Node's own agent returns the socket (and may call back later with nothing); a tunnel calls
    // back once it is open. The first of the two counts.
    const created = (error: Error | null, made?: Net.Socket) => {
      if (socket !== undefined) return
      if (error !== null || made === undefined) return fail(error?.message ?? "no connection")
      socket = made as Tls.TLSSocket
      if (interrupted) return void socket.destroy()
      watch(socket)
    }
    const createConnection = agent.createConnection as unknown as (
      options: Record<string, unknown>,
      callback: (error: Error | null, socket?: Net.Socket) => void
    ) => Net.Socket | undefined
    const returned = createConnection.call(agent, { ...agent.options, host, port, servername }, created)
    if (returned !== undefined) created(null, returned)
    return Effect.sync(() => {
      interrupted = true
      socket?.destroy()
    })
  })
