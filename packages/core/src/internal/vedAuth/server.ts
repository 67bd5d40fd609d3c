import type * as TokenStore from "../../TokenStore.js"
import type { Options } from "../../VedAuth.js"

/**
 * The server as the service addresses it: its base URL (no trailing slash), the VEDauth endpoints
 * under it, and the key its grants are stored under.
 *
 * @internal
 */
export interface Server {
  readonly base: string
  readonly key: TokenStore.Key
  readonly endpointUrl: (path: string) => string
}

/**
 * The server at `url` (the configured URL, or its safe form when the service refuses it).
 *
 * @internal
 */
export const server = (options: Options, url: string): Server => {
  const base = url.replace(/\/+$/, "")
  return {
    base,
    key: { server: base, clientId: options.clientId, scope: options.scope, user: options.username ?? "" },
    endpointUrl: (path) => `${base}/vedauth/${path}`
  }
}
