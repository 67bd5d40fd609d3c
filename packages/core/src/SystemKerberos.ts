/**
 * The operating system's own Kerberos as the initiator of a Negotiate authorize: GSS-API on Linux
 * and macOS (the default credential cache, `FILE:`, `KCM:`, `KEYRING:` alike, or a client keytab
 * that MIT Kerberos renews from), SSPI with the logged-on user on Windows. vedauth then holds no
 * password and no ticket: the system makes the SPNEGO token and checks the server's answer.
 *
 * Chosen with `VedAuth.Options.kerberos.system`; `@vedauth/platform-node`'s `NodeSystemKerberos`
 * provides it over the optional `kerberos` addon (and `NodeVedAuth` includes it). Such an
 * initiator sends no TLS channel bindings (`channelBindings: false`): a server with Extended
 * Protection set to Require refuses it, and the refusal says so.
 *
 * @since 0.2.0
 */
import type { Effect } from "effect"
import { Context } from "effect"
import type { Initiator } from "./Kerberos.js"
import type { KerberosError } from "./VedAuthError.js"

/**
 * What the context is for.
 *
 * @since 0.2.0
 * @category models
 */
export interface Target {
  /** `HTTP/host` (or `HTTP/host@REALM`): the server's SPN. */
  readonly spn: string
  /** The server URL the token goes to (its scheme tells whether TLS is in use). */
  readonly url: string
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /**
   * Starts a security context for the target with the system's credentials: its first token
   * (SPNEGO, for `Authorization: Negotiate`), and `complete`, which hands the server's final
   * token to the same context so that the system verifies mutual authentication (a missing one is
   * `KRB_AP_ERR_MUT_FAIL`). No credentials, no KDC, or no way to load the system's library are a
   * `KerberosError` with a hint.
   */
  readonly initiate: (target: Target) => Effect.Effect<Initiator, KerberosError>
  /** True when its tokens carry TLS channel bindings (the `kerberos` addon's never do). */
  readonly channelBindings: boolean
}

/**
 * @since 0.2.0
 * @category tags
 */
export class SystemKerberos extends Context.Tag("@vedauth/core/SystemKerberos")<SystemKerberos, Service>() {}
