/**
 * vedauth for any JavaScript program: `VedAuth`'s managed token as Promises, over `NodeVedAuth`'s
 * layer in a `ManagedRuntime` of its own (the package bundles that runtime: the program needs no
 * Effect, or may use any Effect it likes beside it).
 *
 * ```js
 * await using client = VedAuthClient.fromEnv()
 * const response = await client.fetch("vedsdk/certificates/")
 * ```
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as NodeVedAuth from "@vedauth/platform-node/NodeVedAuth"
import type { Effect } from "effect"
import { Effect as E, Exit, Layer, Logger, LogLevel, ManagedRuntime, Option, Redacted } from "effect"
import { fromCause } from "./internal/errors.js"
import { bearerFetch } from "./internal/fetch.js"
import type { Fetch, VedAuthClientOptions } from "./internal/options.js"
import { toNodeOptions } from "./internal/options.js"
import { VedAuthClientError } from "./VedAuthClientError.js"
import { VedAuthGrant } from "./VedAuthGrant.js"
// The public declarations define these plain shapes once.
import type { CallOptions, RevokeResult } from "../index.js"

export type { CallOptions, RevokeResult, VedAuthClientOptions } from "../index.js"

// A library's logs are not the program's output: warnings and errors only (allowHttp, unverified
// TLS, a store it cannot use), on stderr (console.warn, console.error), never on stdout.
const quietLogs = Layer.merge(
  Logger.replace(Logger.defaultLogger, Logger.withLeveledConsole(Logger.logfmtLogger)),
  Logger.minimumLogLevel(LogLevel.Warning)
)

// What `fromEnv` passes instead of options: the environment is read by NodeVedAuth.config itself.
const fromEnvironment: unique symbol = Symbol("vedauth/client/fromEnv")

/**
 * @since 0.1.0
 * @category clients
 */
export class VedAuthClient {
  readonly #runtime: ManagedRuntime.ManagedRuntime<VedAuth.VedAuth | HttpClient.HttpClient, unknown>
  readonly #fetch: Fetch
  // Every call in flight, so that `close` can interrupt them before it closes the layer.
  readonly #running = new Set<AbortController>()
  #closed = false

  /** Checks the options (throws `InvalidArgument`); the layer is built on the first call. */
  constructor(options: VedAuthClientOptions | typeof fromEnvironment, fetch?: Fetch) {
    const layer: Layer.Layer<VedAuth.VedAuth | HttpClient.HttpClient, unknown> = options === fromEnvironment
      ? NodeVedAuth.layerConfig()
      : NodeVedAuth.layer(toNodeOptions(options))
    this.#fetch = (options === fromEnvironment ? fetch : options.fetch) ??
      ((input, init) => globalThis.fetch(input, init))
    this.#runtime = ManagedRuntime.make(Layer.merge(layer, quietLogs))
  }

  /** The same `VEDAUTH_*` variables as `NodeVedAuth.layerConfig()`, read on the first call. */
  static fromEnv(options: { readonly fetch?: Fetch } = {}): VedAuthClient {
    return new VedAuthClient(fromEnvironment, options.fetch)
  }

  /** The managed grant's access token: stored, refreshed once for everyone, re-authorized. */
  accessToken(options?: CallOptions): Promise<string> {
    return this.#run(E.map(VedAuth.accessToken, Redacted.value), options)
  }

  /** The managed grant: scope, identity, expiries (no token). */
  grant(options?: CallOptions): Promise<VedAuthGrant> {
    return this.#run(E.map(VedAuth.grant, (grant) => new VedAuthGrant(grant)), options)
  }

  /** The platform's `fetch` with the bearer token, renewed and retried once on a 401. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const signal = init?.signal ?? undefined
    return this.#run(bearerFetch(this.#fetch, input, init), signal === undefined ? undefined : { signal })
  }

  /** Revokes the stored grant (its access and refresh token) and removes it from the store. */
  revoke(options?: CallOptions): Promise<RevokeResult> {
    return this.#run(
      E.flatMap(
        VedAuth.stored,
        Option.match({
          onNone: () => E.succeed<RevokeResult>({ outcome: "NothingStored", reason: "no grant stored" }),
          onSome: (grant) =>
            E.map(VedAuth.revoke(grant), (result): RevokeResult => ({ outcome: result._tag, reason: result.reason }))
        })
      ),
      options
    )
  }

  /** Interrupts the calls in flight and closes the runtime; later calls reject with `Closed`. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const controller of this.#running) controller.abort()
    await this.#runtime.dispose()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  async #run<A>(
    effect: Effect.Effect<A, unknown, VedAuth.VedAuth | HttpClient.HttpClient>,
    options: CallOptions | undefined
  ): Promise<A> {
    if (this.#closed) throw new VedAuthClientError("Closed", "Closed: the client is closed")
    const controller = new AbortController()
    const abort = () => controller.abort()
    options?.signal?.addEventListener("abort", abort, { once: true })
    if (options?.signal?.aborted === true) controller.abort()
    this.#running.add(controller)
    try {
      const exit = await this.#runtime.runPromiseExit(effect, { signal: controller.signal })
      if (Exit.isSuccess(exit)) return exit.value
      throw fromCause(exit.cause, this.#closed)
    } finally {
      this.#running.delete(controller)
      options?.signal?.removeEventListener("abort", abort)
    }
  }
}
