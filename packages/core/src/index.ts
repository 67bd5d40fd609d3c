/**
 * @since 0.1.0
 */
export * as Credentials from "./Credentials.js"
export * as Grant from "./Grant.js"
export * as KdcTransport from "./KdcTransport.js"
export * as Kerberos from "./Kerberos.js"
export * as KerberosError from "./KerberosError.js"
export * as LeaseLock from "./LeaseLock.js"
export * as LocalFiles from "./LocalFiles.js"
export * as Ntlm from "./Ntlm.js"
/** @deprecated since 0.2.0: `WindowsAuthHandshake` */
export * as NtlmHandshake from "./NtlmHandshake.js"
export * as NtlmTransport from "./NtlmTransport.js"
export * as SystemKerberos from "./SystemKerberos.js"
export * as TokenInfo from "./TokenInfo.js"
export * as TokenScope from "./TokenScope.js"
export * as TokenStore from "./TokenStore.js"
export * as TokenStoreConformance from "./TokenStoreConformance.js"
export * as TokenStoreFiles from "./TokenStoreFiles.js"
export * as TokenStoreFormat from "./TokenStoreFormat.js"
export * as VedAuth from "./VedAuth.js"
export * as VedAuthError from "./VedAuthError.js"
export * as WindowsAuthHandshake from "./WindowsAuthHandshake.js"
