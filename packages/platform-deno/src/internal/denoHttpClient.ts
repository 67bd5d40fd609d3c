/**
 * The bit of the `Deno` namespace the HTTP client needs, looked up at run time so that this package
 * type-checks with Node's types too (tsc -b) and fails with a typed error, not a ReferenceError,
 * when it is not running on Deno.
 */

/** `Deno.createHttpClient` options (Deno 2): `caCerts` are added to the default roots. @internal */
export interface CreateHttpClientOptions {
  readonly caCerts?: Array<string>
  readonly cert?: string
  readonly key?: string
  /** Every request through this HTTP proxy (CONNECT for https), with Basic credentials if given. */
  readonly proxy?: {
    readonly url: string
    readonly basicAuth?: { readonly username: string; readonly password: string }
  }
}

/** @internal */
export interface DenoHttpClient {
  readonly close: () => void
}

/** @internal */
export type CreateHttpClient = (options: CreateHttpClientOptions) => DenoHttpClient

/** @internal */
export const createHttpClient = (): CreateHttpClient | undefined => {
  const deno = (globalThis as { readonly Deno?: { readonly createHttpClient?: CreateHttpClient } }).Deno
  const create = deno?.createHttpClient
  return typeof create === "function" ? create.bind(deno) : undefined
}
