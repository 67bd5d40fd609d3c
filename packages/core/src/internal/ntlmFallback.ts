/**
 * The one policy for when `mechanism: "negotiate"` gives up Kerberos for NTLM, at each of the three
 * moments it can: before the handshake (no ticket can be had here), during it (the server offers
 * NTLM and not Negotiate), and after it (the server refused the ticket). Never when the KDC refused
 * the credentials (a wrong password must not hide behind NTLM), never without a password, and never
 * twice: the NTLM exchange carries no ticket and so cannot fall back again.
 * @internal
 */
import { Effect, Redacted } from "effect"
import type * as NtlmTransport from "../NtlmTransport.js"
import type { Mechanism } from "../VedAuth.js"
import { KerberosError, type TransportError } from "../VedAuthError.js"

/**
 * `KerberosError.reason` when the server answered the AP-REQ with a refusal (`401` with a bare
 * `Negotiate`, a SPNEGO reject or a KRB-ERROR): the ticket was issued, the server could not use it.
 * @internal
 */
export const serverRefusedTicket = "SERVER_REFUSED_TICKET"

/** Whether an authorize with this mechanism may fall back to NTLM at all. @internal */
export const mayFallBack = (mechanism: Mechanism): boolean => mechanism === "negotiate"

/** `KerberosError.reason` when the client's realm was only a guess and the exchange failed. @internal */
export const realmGuessFailed = "REALM_GUESS_FAILED"

// Failures that mean "Kerberos is not possible here", after which `negotiate` goes on with NTLM.
const notPossible: ReadonlySet<string> = new Set([
  "NO_PRINCIPAL",
  "BAD_PRINCIPAL",
  "NO_CREDENTIALS",
  "SPN_FOR_IP_ADDRESS",
  "NO_KDC",
  "CCACHE_TYPE_UNSUPPORTED",
  realmGuessFailed
])

/** Before the handshake: no ticket could be had (no KDC, no principal, ...), and a password is known. @internal */
export const beforeHandshake = (
  error: { readonly _tag: string },
  hasPassword: boolean
): error is KerberosError | TransportError =>
  hasPassword && (error._tag === "TransportError" || (error instanceof KerberosError && notPossible.has(error.reason)))

/** During the handshake: the server does not offer Negotiate, and offers NTLM. @internal */
export const duringHandshake = (attempt: { readonly ntlmFallback: boolean }, offersNtlm: boolean): boolean =>
  attempt.ntlmFallback && offersNtlm

/**
 * After the handshake: when the server refused the ticket and a password is known, NTLM runs once
 * on a fresh exchange, `ntlm`.
 * @internal
 */
export const afterRefusal = <A, E>(
  attempt: { readonly ntlmFallback: boolean },
  account: NtlmTransport.WindowsAccount,
  kerberos: Effect.Effect<A, E | KerberosError>,
  ntlm: Effect.Effect<A, E>
): Effect.Effect<A, E | KerberosError> => {
  if (!attempt.ntlmFallback || Redacted.value(account.password) === "") return kerberos
  return Effect.catchIf(
    kerberos,
    (error): error is KerberosError => error instanceof KerberosError && error.reason === serverRefusedTicket,
    (error) => Effect.zipRight(Effect.logWarning(`vedauth: ${error.detail}; NTLM instead`), ntlm)
  )
}
