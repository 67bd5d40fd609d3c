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
import { Effect, Layer, Redacted } from "effect"
import * as Fs from "node:fs/promises"
import { TransportError } from "@vedauth/core/VedAuthError"
import type { CreateHttpClientOptions } from "./internal/denoHttpClient.js"
import { createHttpClient } from "./internal/denoHttpClient.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Extra trusted CA certificates (PEM), added to Deno's default roots. */
  readonly ca?: string | ReadonlyArray<string>
  /** A PEM file of extra trusted CA certificates, read when the layer is built. */
  readonly caFile?: string
  /** A client certificate for TLS client authentication (PEM). Deno takes no passphrase: the key must be unencrypted. */
  readonly clientCertificate?: {
    readonly cert: string
    readonly key: Redacted.Redacted<string>
    readonly passphrase?: Redacted.Redacted<string>
  }
}

const readCaFile = (caFile: string) =>
  Effect.tryPromise({
    try: () => Fs.readFile(caFile, "utf8"),
    catch: (error) => new TransportError({ detail: `cannot read the CA file ${caFile}: ${(error as Error).message}` })
  })

const clientOptions = (options: Options): Effect.Effect<CreateHttpClientOptions, TransportError> =>
  Effect.gen(function*() {
    const inline = options.ca === undefined ? [] : typeof options.ca === "string" ? [options.ca] : [...options.ca]
    const fromFile = options.caFile === undefined ? [] : [yield* readCaFile(options.caFile)]
    const caCerts = [...inline, ...fromFile]
    const client = options.clientCertificate
    if (client?.passphrase !== undefined) {
      return yield* new TransportError({ detail: "Deno.createHttpClient takes no key passphrase: give the client key unencrypted" })
    }
    return {
      ...(caCerts.length === 0 ? {} : { caCerts }),
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
