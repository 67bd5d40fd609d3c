/**
 * The server halves, for test servers and simulators: a KDC, a Kerberos acceptor and NTLMv2
 * verification. Not part of the client's API (`@vedauth/winauth`); imported as
 * `@vedauth/winauth/server`.
 *
 * @since 0.2.0
 */

/**
 * @since 0.2.0
 */
export * as Acceptor from "./Acceptor.js"

/**
 * @since 0.2.0
 */
export * as Kdc from "./Kdc.js"

/**
 * @since 0.2.0
 */
export * as NtlmServer from "./NtlmServer.js"
