import type { Duration, Effect, Ref } from "effect"
import type { ResolvedConfig, SchemeName, UserConfig } from "./config.js"
import type { IssuerKeys } from "./jwt.js"
import type { KerberosRealm } from "./kerberos.js"
import type { State } from "./state.js"

/** Faults to inject; each applies to every matching request until cleared. @internal */
export interface Faults {
  /** Answer the NEGOTIATE with the CHALLENGE, then close the connection (the handshake cannot finish). */
  readonly closeAfterNegotiate?: boolean
  /** Close the connection on the NEGOTIATE without answering. */
  readonly dropAfterNegotiate?: boolean
  /** Wait this long (on Effect's Clock) before answering every request. */
  readonly delay?: Duration.DurationInput
  /**
   * Hold the answer to a refresh this long (on Effect's Clock) after the pair was rotated: the
   * refresh token reached the server and is spent, and the caller waits (a slow server, a relay).
   */
  readonly holdRefreshAnswer?: Duration.DurationInput
  /** Answer every VEDauth and /vedsdk/ request with this status (e.g. 500, 503). */
  readonly serverError?: number
  /** Send a CHALLENGE that does not parse (truncated, offsets out of bounds). */
  readonly malformedChallenge?: boolean
  /** Answer successful VEDauth calls with an HTML body instead of JSON. */
  readonly nonJsonBody?: boolean
  /** After accepting a Kerberos AP-REQ, leave the AP-REP out of the answer, or send one with a flipped byte (mutual authentication fails). */
  readonly kerberosMutualAuth?: "omit" | "corrupt"
  /**
   * The acceptor refuses every Kerberos AP-REQ while NTLM goes on working: `"wrong-key"` as a
   * server whose keytab no longer matches its SPN's key (a bare `Negotiate` 401, counted as
   * `KRB_AP_ERR_MODIFIED`), `"reject"` as one without Kerberos (a SPNEGO reject token).
   */
  readonly kerberosAcceptor?: "wrong-key" | "reject"
}

/** @internal */
export interface TlsInfo {
  /** DER of the certificate the server presented, for `tls-server-end-point` channel bindings. */
  readonly certificateDer: Uint8Array
  /** The client certificate the peer presented and the server verified (mutual TLS), if any. */
  readonly clientCertificate?: ClientCertificateInfo
}

/** What the certificate grant maps to a user: the subject's CN and the subject alternative names. @internal */
export interface ClientCertificateInfo {
  readonly commonName: string | undefined
  /** Values of the SAN, without their `DNS:`/`email:` prefixes. */
  readonly altNames: ReadonlyArray<string>
}

/** @internal */
export type AuthState =
  | { readonly _tag: "Anonymous" }
  | {
    readonly _tag: "Challenged"
    readonly scheme: SchemeName
    readonly negotiate: Uint8Array
    readonly challenge: Uint8Array
    readonly serverChallenge: Uint8Array
  }
  | { readonly _tag: "Authenticated"; readonly user: UserConfig }

/** One client connection: NTLM authenticates connections, not requests. @internal */
export interface Connection {
  readonly id: number
  readonly tls: TlsInfo | undefined
  auth: AuthState
  /** Requests spent on the handshake in progress. */
  handshakeRequests: number
}

/** @internal */
export interface HandlerContext {
  readonly config: ResolvedConfig
  /** The trusted JWT issuer's keys, imported or generated on first use. */
  readonly jwtIssuer: Effect.Effect<IssuerKeys>
  readonly state: State
  readonly faults: Ref.Ref<Faults>
  readonly kerberos: KerberosRealm | undefined
}
