/**
 * One HTTP request authenticated with Integrated Windows Authentication (NTLM, or NTLM inside
 * Negotiate). NTLM authenticates a connection, so an implementation runs the whole handshake
 * (NEGOTIATE -> CHALLENGE -> AUTHENTICATE + body) on one dedicated connection and returns the final
 * response. Platform packages provide layers: `@vedauth/platform-node`, `@vedauth/platform-deno`,
 * and `@vedauth/testing` (in memory, against the simulator, with real NTLM messages).
 *
 * @since 0.1.0
 */
import type { Duration, Effect, Redacted } from "effect"
import { Context } from "effect"
import type { Initiator, ServiceTicket } from "./Kerberos.js"
import type { AuthenticationFailed, KerberosError, NtlmProtocolError, TransportError } from "./VedAuthError.js"

/**
 * Windows credentials. `domain` may be empty (the server's default domain is used).
 *
 * @since 0.1.0
 * @category models
 */
export interface WindowsAccount {
  readonly domain: string
  readonly username: string
  readonly password: Redacted.Redacted<string>
  /** The client's workstation name, sent in AUTHENTICATE; empty by default. */
  readonly workstation?: string
}

/**
 * The request to send once the connection is authenticated.
 *
 * @since 0.1.0
 * @category models
 */
export interface Request {
  readonly method: "GET" | "POST"
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Sent only with the AUTHENTICATE request (the NEGOTIATE request carries `Content-Length: 0`). */
  readonly body?: Uint8Array
  readonly credentials: WindowsAccount
  /**
   * Kerberos inside Negotiate (SPNEGO) instead of NTLM: the AP-REQ for this service ticket goes on
   * the first request, with the TLS channel bindings, and the server's AP-REP is verified.
   */
  readonly kerberos?: KerberosAttempt
  /**
   * The longest the whole call may take, every round trip and the answer read whole included; past
   * it the call fails with a `TransportError` ("no answer within ..."). Only a transport that says
   * `enforcesTimeout` is relied on for it.
   */
  readonly timeout?: Duration.Duration
}

/**
 * Kerberos with a service ticket of vedauth's own initiator, or with the system's (`SystemAttempt`).
 *
 * @since 0.2.0
 * @category models
 */
export type KerberosAttempt = TicketAttempt | SystemAttempt

/**
 * @since 0.2.0
 * @category models
 */
export interface TicketAttempt {
  readonly ticket: ServiceTicket
  /**
   * When the server does not offer `Negotiate` (only `NTLM`), run the NTLM handshake with
   * `Request.credentials` instead (`mechanism: "negotiate"`); false fails (`mechanism: "kerberos"`).
   * A server that refuses the ticket fails the request (`KerberosError` named
   * `WindowsAuthHandshake.serverRefusedTicket`) either way: the authorize above retries it as NTLM.
   */
  readonly ntlmFallback: boolean
}

/**
 * A context of the system's Kerberos (`SystemKerberos`), started before the handshake: its token
 * goes on the first request as it is, and the server's answer is handed back to it.
 *
 * @since 0.2.0
 * @category models
 */
export interface SystemAttempt {
  readonly system: Initiator
  /** The SPN the context is for, to name in errors. */
  readonly spn: string
  /** Whether the token carries TLS channel bindings (the `kerberos` addon's never do). */
  readonly channelBindings: boolean
  /** As `TicketAttempt.ntlmFallback`. */
  readonly ntlmFallback: boolean
}

/**
 * The server's answer to the authenticated request (whatever its status: VEDauth's 400s and 401
 * texts are the caller's to interpret). Header names are lower case.
 *
 * @since 0.1.0
 * @category models
 */
export interface Response {
  readonly status: number
  readonly reason: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /**
   * Runs the handshake and the request. Fails with `AuthenticationFailed` when the server rejects
   * the credentials, `NtlmProtocolError` when the exchange cannot proceed (no NTLM offered, a
   * malformed or NTLMv1-only challenge, the connection closed mid-handshake), `TransportError` for
   * network, TLS and timeouts, `KerberosError` when the server's Kerberos answer (AP-REP) is
   * missing or wrong.
   */
  readonly request: (
    request: Request
  ) => Effect.Effect<Response, AuthenticationFailed | NtlmProtocolError | KerberosError | TransportError>
  /**
   * True when `request` enforces `Request.timeout` itself (on Effect's Clock). `VedAuth` otherwise
   * bounds the call with a timeout of its own, which costs a second fiber per authorize.
   */
  readonly enforcesTimeout?: boolean
}

/**
 * @since 0.1.0
 * @category tags
 */
export class NtlmTransport extends Context.Tag("@vedauth/core/NtlmTransport")<NtlmTransport, Service>() {}

/**
 * Splits `DOMAIN\user` or `user@domain` into its parts.
 *
 * @since 0.1.0
 * @category constructors
 */
export const parseUser = (user: string): { readonly domain: string; readonly username: string } => {
  const backslash = user.indexOf("\\")
  if (backslash !== -1) return { domain: user.slice(0, backslash), username: user.slice(backslash + 1) }
  const at = user.lastIndexOf("@")
  if (at !== -1) return { domain: user.slice(at + 1), username: user.slice(0, at) }
  return { domain: "", username: user }
}
