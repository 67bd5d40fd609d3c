/**
 * The former name of `WindowsAuthHandshake`: the module runs Kerberos (Negotiate) too, so it is
 * named for Integrated Windows Authentication now. Everything it exported is still here.
 *
 * @since 0.1.0
 * @deprecated since 0.2.0: import `WindowsAuthHandshake`
 */

/**
 * @since 0.1.0
 * @deprecated since 0.2.0: import `WindowsAuthHandshake`
 */
export * from "./WindowsAuthHandshake.js"
