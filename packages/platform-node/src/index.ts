/**
 * @since 0.1.0
 */
export * as NodeKcmTransport from "./NodeKcmTransport.js"
export * as NodeKdcTransport from "./NodeKdcTransport.js"
export * as NodeNtlmTransport from "./NodeNtlmTransport.js"
export * as NodeSystemKerberos from "./NodeSystemKerberos.js"
export * as NodeTokenStoreFiles from "./NodeTokenStoreFiles.js"
export * as NodeVedAuth from "./NodeVedAuth.js"
