/**
 * A Kerberos exchange that failed for a reason other than rejected credentials (those are
 * `AuthenticationFailed`) or an unreachable KDC (`TransportError`). The class lives with every other
 * vedauth error in `VedAuthError` (it is part of the `VedAuthError` union); this module names it too.
 *
 * @since 0.2.0
 */

/**
 * @since 0.2.0
 * @category errors
 */
export { KerberosError } from "./VedAuthError.js"
