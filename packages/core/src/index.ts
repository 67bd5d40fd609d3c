/**
 * @since 0.1.0
 */
export * as Grant from "./Grant.js"
export * as Ntlm from "./Ntlm.js"
export * as NtlmHandshake from "./NtlmHandshake.js"
export * as NtlmTransport from "./NtlmTransport.js"
export * as TokenInfo from "./TokenInfo.js"
export * as TokenScope from "./TokenScope.js"
export * as TokenStore from "./TokenStore.js"
export * as VedAuth from "./VedAuth.js"
export * as VedAuthError from "./VedAuthError.js"
