/**
 * The `HttpClient` for VEDauth's plain calls (refresh, verify, revoke) on Deno: `@effect/platform`'s
 * `FetchHttpClient` on Deno's `fetch`. Extra trusted CAs and a client certificate go through a
 * `Deno.createHttpClient` handed to every request as `fetch`'s `client` option (Deno adds `caCerts`
 * to its default roots; verification stays on). The Deno client is closed with the layer.
 *
 * @since 0.1.0
 */
import { FetchHttpClient } from "@effect/platform"
import type { HttpClient } from "@effect/platform"
import { NodeNtlmTransport } from "@vedauth/platform-node"
import { Effect, Layer, Redacted } from "effect"
import { TransportError } from "@vedauth/core/VedAuthError"
import type { CreateHttpClientOptions } from "./internal/denoHttpClient.js"
import { createHttpClient } from "./internal/denoHttpClient.js"

/**
 * Extra trusted CAs (`ca`, `caFile`; added to Deno's default roots) and a client certificate (PEM),
 * as the NTLM transport takes them. Deno takes no passphrase: the client key must be unencrypted.
 *
 * @since 0.1.0
 * @category models
 */
export type Options = NodeNtlmTransport.TlsOptions

// Deno's verifier adds `caCerts` to its own roots, so only the extra CAs go (not Node's bundle).
const clientOptions = (options: Options): Effect.Effect<CreateHttpClientOptions, TransportError> =>
  Effect.gen(function*() {
    const { ca, clientCertificate: client } = yield* NodeNtlmTransport.tlsOptions(options)
    if (client?.passphrase !== undefined) {
      return yield* new TransportError({ detail: "Deno.createHttpClient takes no key passphrase: give the client key unencrypted" })
    }
    return {
      ...(ca.length === 0 ? {} : { caCerts: [...ca] }),
      ...(client === undefined ? {} : { cert: client.cert, key: Redacted.value(client.key) })
    }
  })

/**
 * `FetchHttpClient`, with a `Deno.createHttpClient` when there are extra CAs or a client
 * certificate. Those need Deno: elsewhere the layer fails with a `TransportError`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<HttpClient.HttpClient, TransportError> =>
  Layer.unwrapScoped(Effect.gen(function*() {
    const settings = yield* clientOptions(options)
    if (Object.keys(settings).length === 0) return FetchHttpClient.layer
    const create = createHttpClient()
    if (create === undefined) {
      return yield* new TransportError({ detail: "extra CAs or a client certificate need Deno.createHttpClient: not running on Deno" })
    }
    const client = yield* Effect.acquireRelease(
      Effect.try({
        try: () => create(settings),
        catch: (error) => new TransportError({ detail: `Deno.createHttpClient failed: ${(error as Error).message}` })
      }),
      (client) => Effect.sync(() => client.close())
    )
    // `client` is Deno's extension of RequestInit; FetchHttpClient spreads these options into every fetch.
    const init = { client } as unknown as globalThis.RequestInit
    return FetchHttpClient.layer.pipe(Layer.provide(Layer.succeed(FetchHttpClient.RequestInit, init)))
  }))
