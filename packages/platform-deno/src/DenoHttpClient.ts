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
import { TransportError } from "@vedauth/core/VedAuthError"
import { NodeNtlmTransport } from "@vedauth/platform-node"
import { Effect, Layer, Redacted } from "effect"
import type { CreateHttpClientOptions } from "./internal/denoHttpClient.js"
import { createHttpClient } from "./internal/denoHttpClient.js"

/**
 * Extra trusted CAs (`ca`, `caFile`; added to Deno's default roots) and a client certificate (PEM),
 * as the NTLM transport takes them. Deno takes no passphrase: the client key must be unencrypted.
 * An explicit `proxy` URL (`http://[user:password@]host[:port]`) sends every request through it
 * (Deno's `createHttpClient` proxy, with Basic credentials); `noProxy` and Negotiate to the proxy
 * are not available on `fetch` (docs/proxies.md). Without it, Deno's `fetch` reads `HTTPS_PROXY`,
 * `HTTP_PROXY` and `NO_PROXY` itself.
 *
 * @since 0.1.0
 * @category models
 */
export type Options = NodeNtlmTransport.TlsOptions & Pick<NodeNtlmTransport.ProxyOptions, "proxy">

const proxyError = (why: string) =>
  new TransportError({ detail: `the proxy option ${why} (expected http://[user:password@]host[:port])` })

// The proxy as Deno's client takes it: the URL without its user and password, which go as basicAuth.
const denoProxy = (proxy: Options["proxy"]): Effect.Effect<CreateHttpClientOptions["proxy"], TransportError> =>
  Effect.suspend(() => {
    if (proxy === undefined || proxy === false) return Effect.succeed(undefined)
    const text = (Redacted.isRedacted(proxy) ? Redacted.value(proxy) : proxy).trim()
    const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`
    if (!URL.canParse(withScheme)) return Effect.fail(proxyError("is not a valid URL"))
    const url = new URL(withScheme)
    if (url.protocol !== "http:") return Effect.fail(proxyError("is not an http:// proxy"))
    return Effect.try({
      try: () => {
        const basicAuth = url.username === "" && url.password === ""
          ? undefined
          : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
        return {
          url: `http://${url.host}${url.port === "" ? ":1080" : ""}`,
          ...(basicAuth === undefined ? {} : { basicAuth })
        }
      },
      catch: () => proxyError("has a user or password that is not valid percent-encoding")
    })
  })

// Deno's verifier adds `caCerts` to its own roots, so only the extra CAs go (not Node's bundle).
const clientOptions = (options: Options): Effect.Effect<CreateHttpClientOptions, TransportError> =>
  Effect.gen(function*() {
    const { ca, clientCertificate: client } = yield* NodeNtlmTransport.tlsOptions(options)
    if (client?.passphrase !== undefined) {
      return yield* new TransportError({
        detail: "Deno.createHttpClient takes no key passphrase: give the client key unencrypted"
      })
    }
    const proxy = yield* denoProxy(options.proxy)
    return {
      ...(ca.length === 0 ? {} : { caCerts: [...ca] }),
      ...(client === undefined ? {} : { cert: client.cert, key: Redacted.value(client.key) }),
      ...(proxy === undefined ? {} : { proxy })
    }
  })

/**
 * `FetchHttpClient`, with a `Deno.createHttpClient` when there are extra CAs, a client certificate
 * or a proxy. Those need Deno: elsewhere the layer fails with a `TransportError`.
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
      return yield* new TransportError({
        detail: "extra CAs, a client certificate or a proxy need Deno.createHttpClient: not running on Deno"
      })
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
