/**
 * @since 0.1.0
 */
export { type CallOptions, type RevokeResult, VedAuthClient, type VedAuthClientOptions } from "./VedAuthClient.js"
export { VedAuthClientError, type VedAuthClientErrorDetails } from "./VedAuthClientError.js"
export { VedAuthGrant } from "./VedAuthGrant.js"
