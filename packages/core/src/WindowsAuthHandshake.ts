/**
 * The Windows authentication handshake over HTTP, once, for every transport. NTLM: NEGOTIATE with
 * the first request, CHALLENGE from the `401`'s `WWW-Authenticate`, AUTHENTICATE with the body, on
 * one connection. Kerberos (when the request carries a service ticket): the SPNEGO AP-REQ with the
 * body on the first request, and the server's AP-REP in its answer verified (mutual authentication).
 * A transport gives it a way to send one request on that connection and read the answer; the
 * rules (which scheme, falling back to the other one offered, what a refusal of the credentials
 * looks like, a connection that closes mid-handshake) live here. The Node and Deno transports and
 * `@vedauth/testing`'s in-memory one all run it.
 *
 * @since 0.1.0
 */
import { boundText } from "@vedauth/winauth/PeerText"
import { Effect, Either, Encoding, Redacted } from "effect"
import * as NtlmFallback from "./internal/ntlmFallback.js"
import * as Kerberos from "./Kerberos.js"
import * as Ntlm from "./Ntlm.js"
import type * as NtlmTransport from "./NtlmTransport.js"
import { AuthenticationFailed, KerberosError, NtlmProtocolError } from "./VedAuthError.js"

/**
 * The HTTP authentication scheme the NTLM messages travel under (IIS with Negotiate alone accepts
 * raw NTLMSSP in it).
 *
 * @since 0.1.0
 * @category models
 */
export type Scheme = "NTLM" | "Negotiate"

/**
 * One request of the handshake, for the transport to send on the handshake's connection.
 *
 * @since 0.1.0
 * @category models
 */
export interface Step {
  /** "negotiate" (no body: `Content-Length: 0` on a POST) or "authenticate" (the request's body). */
  readonly phase: "negotiate" | "authenticate"
  /** The `Authorization` header value; none on the anonymous request that fetches a TLS server's certificate first. */
  readonly authorization: string | undefined
  readonly body: Uint8Array | undefined
}

/**
 * What the transport read back.
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer {
  readonly status: number
  readonly reason: string
  /** Every `WWW-Authenticate` value as sent (not joined). */
  readonly wwwAuthenticate: ReadonlyArray<string>
  readonly body: Uint8Array
  /** The server closed (or said it will close) the connection after this answer. */
  readonly closed: boolean
  /** The server's certificate (DER) when the connection is TLS: the channel bindings are made from it. */
  readonly peerCertificate?: Uint8Array | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The scheme to send the NEGOTIATE under first. */
  readonly scheme: Scheme
  /** Sent as MsvAvTargetName (e.g. `HTTP/host`), when given. */
  readonly targetName?: string | undefined
  /** Told the scheme the server answered with a CHALLENGE, to try it first next time. */
  readonly onScheme?: ((scheme: Scheme) => void) | undefined
  /**
   * The handshake's connection, when the transport has it before the first request: its server
   * certificate (DER; none without TLS). Kerberos then needs no anonymous request first to bind the
   * AP-REQ to the TLS connection.
   */
  readonly connection?: { readonly peerCertificate: Uint8Array | undefined } | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Outcome<A extends Answer> {
  /** The answer to the authenticated request (or to the NEGOTIATE when the server asked for no authentication). */
  readonly answer: A
  readonly scheme: Scheme
  /** Which mechanism authenticated the request. */
  readonly mechanism: "kerberos" | "ntlm"
  readonly roundTrips: number
}

interface Offer {
  readonly scheme: string
  readonly token: string | undefined
}

// Commas split offers too: a proxy may join repeated headers.
const offers = (answer: Answer): ReadonlyArray<Offer> =>
  answer.wwwAuthenticate
    .flatMap((value) => value.split(","))
    .map((value) => value.trim())
    .filter((value) => value.length > 0)
    .map((value) => {
      const [scheme = "", token] = value.split(/\s+/, 2)
      return { scheme: scheme.toLowerCase(), token: token !== undefined && token.length > 0 ? token : undefined }
    })

const tokenFor = (answer: Answer, scheme: Scheme): Uint8Array | undefined => {
  const offer = offers(answer).find((o) => o.scheme === scheme.toLowerCase() && o.token !== undefined)
  if (offer?.token === undefined) return undefined
  const decoded = Encoding.decodeBase64(offer.token)
  // Not base64 at all: an empty token, which the CHALLENGE parser refuses as malformed.
  return Either.isRight(decoded) ? decoded.right : new Uint8Array(0)
}

const offered = (answer: Answer, scheme: Scheme): boolean =>
  offers(answer).some((o) => o.scheme === scheme.toLowerCase())

// The VEDauth application's own 401 texts; IIS may add its challenge headers to them, but they are
// answers of an authenticated request, not a refusal of the Windows credentials.
const application401 = /Failed to issue grant|Unhandled identity claim/i

// The server's words (reason phrase, scheme names) are cut to a bounded length wherever they go.
const protocolError = (detail: string, answer?: Answer) =>
  new NtlmProtocolError({
    detail,
    ...(answer === undefined ? {} : { status: answer.status, reason: boundText(answer.reason) })
  })

const schemesOf = (answer: Answer) => boundText(offers(answer).map((o) => o.scheme).join(", ")) || "none"

/**
 * Runs the handshake for `request` through `send`, which must put every step on the same
 * connection: Kerberos when the request carries a ticket (`Request.kerberos`), else NTLM. Fails with
 * `NtlmProtocolError` when the exchange cannot proceed, `AuthenticationFailed` when the server
 * refuses the NTLM credentials, `KerberosError` when it refuses the Kerberos ticket
 * (`serverRefusedTicket`) or its Kerberos answer (AP-REP) is missing or wrong;
 * `send`'s own errors pass through.
 *
 * @since 0.1.0
 * @category handshake
 */
export const run = <A extends Answer, E>(
  request: NtlmTransport.Request,
  options: Options,
  send: (step: Step) => Effect.Effect<A, E>
): Effect.Effect<Outcome<A>, E | NtlmProtocolError | KerberosError | AuthenticationFailed> =>
  Effect.gen(function*() {
    let roundTrips = 0
    const step = (phase: Step["phase"], authorization: string | undefined, body: Uint8Array | undefined) => {
      roundTrips++
      return send({ phase, authorization, body })
    }
    if (request.kerberos !== undefined) {
      const outcome = yield* runKerberos(request, request.kerberos, options, step)
      // Undefined: the server offers NTLM only, and the request allows falling back to it.
      if (outcome !== undefined) return { ...outcome, roundTrips }
      if (Redacted.value(request.credentials.password) === "") {
        return yield* new AuthenticationFailed({
          description:
            "the server offers NTLM only, and NTLM needs a password (a keytab or credential cache serves Kerberos alone)"
        })
      }
    }
    const outcome = yield* runNtlm(request, options, step)
    return { ...outcome, roundTrips }
  })

/**
 * `KerberosError.reason` when the server answered the AP-REQ with a refusal (`401` with a bare
 * `Negotiate`, a SPNEGO reject or a KRB-ERROR): the ticket was issued, the server could not use it.
 * Under `mechanism: "negotiate"` the authorize falls back to NTLM on a fresh exchange.
 *
 * @since 0.2.0
 * @category handshake
 */
export const serverRefusedTicket: string = NtlmFallback.serverRefusedTicket

const decoder = new TextDecoder()

const noNegotiate = (answer: Answer) =>
  protocolError(
    `the server does not offer Negotiate, which Kerberos needs (WWW-Authenticate: ${schemesOf(answer)})`,
    answer
  )

const rejected = (kerberos: NtlmTransport.KerberosAttempt, answer: Answer, why: string, tls: boolean) => {
  const status = `${boundText(why)}; HTTP ${answer.status} ${boundText(answer.reason)}`
  if ("ticket" in kerberos) {
    // The names the KDC put in the ticket: its text too.
    const client = boundText(kerberos.ticket.client)
    const server = boundText(kerberos.ticket.server)
    return new KerberosError({
      reason: serverRefusedTicket,
      detail: `the server refused the Kerberos ticket of ${client} for ${server} (${status})`,
      hint:
        `the credentials are fine, the server could not use a ticket for ${server}: check that this SPN (kerberos.spn) is the one the server's account has, that its keytab is current, and that no TLS proxy sits in between (channel bindings); or use mechanism "negotiate" to fall back to NTLM`
    })
  }
  // Without bindings over TLS, Extended Protection "Require" is the likely reason, and nothing the
  // system's library can change: say so, and what can.
  const unbound = tls && !kerberos.channelBindings
  return new KerberosError({
    reason: serverRefusedTicket,
    detail: `the server refused the system's Kerberos ticket for ${kerberos.spn} (${status})` +
      (unbound
        ? ": the system's Kerberos sent no TLS channel bindings, which a server with Extended Protection set to Require refuses"
        : ""),
    hint: unbound
      ? "use vedauth's own Kerberos there (kerberos.cache or kerberos.keytab instead of kerberos.system), which binds its tokens to the TLS connection"
      : `check that the SPN ${kerberos.spn} is the one the server's account has and that its keytab is current; or use mechanism "negotiate" with a password to fall back to NTLM`
  })
}

const runKerberos = <A extends Answer, E>(
  request: NtlmTransport.Request,
  kerberos: NtlmTransport.KerberosAttempt,
  options: Options,
  step: (phase: Step["phase"], authorization: string | undefined, body: Uint8Array | undefined) => Effect.Effect<A, E>
): Effect.Effect<
  Omit<Outcome<A>, "roundTrips"> | undefined,
  E | NtlmProtocolError | KerberosError | AuthenticationFailed
> =>
  Effect.gen(function*() {
    const body = request.body ?? (request.method === "POST" ? new Uint8Array(0) : undefined)
    let certificate = options.connection?.peerCertificate
    if (options.connection === undefined && request.url.toLowerCase().startsWith("https:")) {
      // The channel bindings name the server's certificate, which this transport learns only from an
      // answer: one anonymous request first, then the AP-REQ on the same connection.
      const probe = yield* step("negotiate", undefined, undefined)
      if (probe.status !== 401) {
        if (request.body === undefined || request.body.length === 0) {
          return { answer: probe, scheme: "Negotiate", mechanism: "kerberos" } as const
        }
        return yield* protocolError(
          `the server answered an anonymous request with HTTP ${probe.status} instead of asking for authentication`,
          probe
        )
      }
      if (!offered(probe, "Negotiate")) {
        if (NtlmFallback.duringHandshake(kerberos, offered(probe, "NTLM"))) {
          return undefined
        }
        return yield* noNegotiate(probe)
      }
      certificate = probe.peerCertificate
    }
    const channelBindings = certificate === undefined ? undefined : yield* Ntlm.tlsServerEndPoint(certificate)
    const initiator = "ticket" in kerberos
      ? yield* Kerberos.initiate(kerberos.ticket, channelBindings === undefined ? {} : { channelBindings })
      : kerberos.system
    const answer = yield* step("authenticate", `Negotiate ${Encoding.encodeBase64(initiator.token)}`, body)
    const serverToken = tokenFor(answer, "Negotiate")
    if (answer.status === 401 && !application401.test(decoder.decode(answer.body))) {
      if (!offered(answer, "Negotiate")) {
        if (NtlmFallback.duringHandshake(kerberos, offered(answer, "NTLM"))) return undefined
        return yield* noNegotiate(answer)
      }
      // The KDC vouched for the credentials; the server could not use the ticket (its keys for the
      // SPN differ, it has no Kerberos, or it wants channel bindings). The caller decides whether NTLM may follow.
      const why = serverToken === undefined
        ? "a bare Negotiate challenge"
        : "ticket" in kerberos
        ? Either.match(yield* Effect.either(initiator.complete(serverToken)), {
          onLeft: (error) => error.reason,
          onRight: () => "an AP-REP with a 401"
        })
        : "a Negotiate answer with a 401"
      return yield* rejected(kerberos, answer, why, certificate !== undefined)
    }
    // Mutual authentication: the answer must carry the server's AP-REP. An application 401 (the
    // request was authenticated, VEDauth refused it) is checked when it carries one.
    if (answer.status !== 401 || serverToken !== undefined) yield* initiator.complete(serverToken)
    return { answer, scheme: "Negotiate", mechanism: "kerberos" } as const
  })

const runNtlm = <A extends Answer, E>(
  request: NtlmTransport.Request,
  options: Options,
  step: (phase: Step["phase"], authorization: string | undefined, body: Uint8Array | undefined) => Effect.Effect<A, E>
): Effect.Effect<Omit<Outcome<A>, "roundTrips">, E | NtlmProtocolError | AuthenticationFailed> =>
  Effect.gen(function*() {
    const { credentials } = request
    const negotiate = Ntlm.negotiate({
      domain: credentials.domain,
      ...(credentials.workstation === undefined ? {} : { workstation: credentials.workstation })
    })
    const negotiateHeader = (scheme: Scheme) => `${scheme} ${Encoding.encodeBase64(negotiate)}`

    let scheme = options.scheme
    let first = yield* step("negotiate", negotiateHeader(scheme), undefined)
    let token = first.status === 401 ? tokenFor(first, scheme) : undefined
    if (first.status === 401 && token === undefined) {
      // Our scheme was not taken. A server that offers only the other one gets the NEGOTIATE again
      // under that name: one more round trip.
      const other: Scheme = scheme === "NTLM" ? "Negotiate" : "NTLM"
      if (!offered(first, other)) {
        return yield* protocolError(
          `the server offers no NTLM authentication (WWW-Authenticate: ${schemesOf(first)})`,
          first
        )
      }
      scheme = other
      first = yield* step("negotiate", negotiateHeader(scheme), undefined)
      token = first.status === 401 ? tokenFor(first, scheme) : undefined
    }
    if (first.status !== 401) {
      // No authentication asked for. Without a body the answer stands; with one, the request was not sent whole.
      if (request.body === undefined || request.body.length === 0) {
        return { answer: first, scheme, mechanism: "ntlm" } as const
      }
      return yield* protocolError(
        `the server answered the NTLM NEGOTIATE with HTTP ${first.status} instead of a challenge`,
        first
      )
    }
    if (token === undefined) return yield* protocolError(`the server sent no ${scheme} challenge`, first)
    options.onScheme?.(scheme)

    const challenge = yield* Either.match(Ntlm.parseChallenge(token), {
      onLeft: (error) => Effect.fail(protocolError(error.detail, first)),
      onRight: Effect.succeed
    })
    if (first.closed) {
      return yield* protocolError(
        "the server closed the connection after its CHALLENGE; NTLM needs one kept-alive connection",
        first
      )
    }
    const channelBindings = first.peerCertificate === undefined
      ? undefined
      : yield* Ntlm.tlsServerEndPoint(first.peerCertificate)
    const authenticate = yield* Ntlm.authenticate({
      negotiate,
      challenge,
      domain: credentials.domain,
      username: credentials.username,
      password: credentials.password,
      ...(credentials.workstation === undefined ? {} : { workstation: credentials.workstation }),
      ...(channelBindings === undefined ? {} : { channelBindings }),
      ...(options.targetName === undefined ? {} : { targetName: options.targetName })
    })
    const body = request.body ?? (request.method === "POST" ? new Uint8Array(0) : undefined)
    const final = yield* step("authenticate", `${scheme} ${Encoding.encodeBase64(authenticate)}`, body)

    if (final.status === 401) {
      // A bare challenge again, and not one of the application's own 401 texts: the credentials were refused.
      const again = offers(final).some((o) => o.scheme === "ntlm" || o.scheme === "negotiate")
      const text = new TextDecoder().decode(final.body).trim()
      if (again && !application401.test(text)) {
        const user = credentials.domain === "" ? credentials.username : `${credentials.domain}\\${credentials.username}`
        return yield* new AuthenticationFailed({
          user,
          description: `the server rejected the Windows credentials of ${user}`,
          status: final.status,
          reason: boundText(final.reason)
        })
      }
    }
    return { answer: final, scheme, mechanism: "ntlm" } as const
  })
