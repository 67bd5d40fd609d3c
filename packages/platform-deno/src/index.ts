/**
 * @since 0.1.0
 */
export * as DenoHttpClient from "./DenoHttpClient.js"
export * as DenoKcmTransport from "./DenoKcmTransport.js"
export * as DenoKdcTransport from "./DenoKdcTransport.js"
export * as DenoNtlmTransport from "./DenoNtlmTransport.js"
export * as DenoVedAuth from "./DenoVedAuth.js"
