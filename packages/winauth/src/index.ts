/**
 * Windows authentication for HTTP clients, sans-I/O: NTLMv2, Kerberos and SPNEGO as functions and
 * state machines on bytes, with channel bindings. Plain TypeScript on WebCrypto and @noble: no
 * runtime-specific module, no network, no files. The caller moves the bytes.
 *
 * @since 0.2.0
 */

/** @since 0.2.0 */
export * as ChannelBindings from "./ChannelBindings.js"

/** @since 0.2.0 */
export * as CredentialCache from "./CredentialCache.js"

/** @since 0.2.0 */
export * as Failure from "./Failure.js"

/** @since 0.2.0 */
export * as Kerberos from "./Kerberos.js"

/** @since 0.2.0 */
export * as Kcm from "./Kcm.js"

/** @since 0.2.0 */
export * as Keytab from "./Keytab.js"

/** @since 0.2.0 */
export * as Krb5Conf from "./Krb5Conf.js"

/** @since 0.2.0 */
export * as Ntlm from "./Ntlm.js"

/** @since 0.2.0 */
export * as PeerText from "./PeerText.js"
