/**
 * @since 0.1.0
 */
import { VedAuthClient } from "./VedAuthClient.js"
import { VedAuthClientError } from "./VedAuthClientError.js"
import { VedAuthGrant } from "./VedAuthGrant.js"

// The bundle is minified: the public classes keep their own names (inspect, stack traces, logs).
for (const [name, constructor] of Object.entries({ VedAuthClient, VedAuthClientError, VedAuthGrant })) {
  Object.defineProperty(constructor, "name", { value: name })
}

export { type CallOptions, type RevokeResult, VedAuthClient, type VedAuthClientOptions } from "./VedAuthClient.js"
export { VedAuthClientError, type VedAuthClientErrorDetails } from "./VedAuthClientError.js"
export { VedAuthGrant } from "./VedAuthGrant.js"
