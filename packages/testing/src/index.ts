/**
 * @since 0.1.0
 */
export * as Simulator from "./Simulator.js"
export * as TestHttpClient from "./TestHttpClient.js"
export * as TestNtlmTransport from "./TestNtlmTransport.js"
