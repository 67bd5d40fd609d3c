/**
 * A `TokenStore` on Redis, so that replicas on many machines share one grant and refresh it once.
 *
 * Every write is a compare-and-set (a Lua script) on a versioned record; versions come from one
 * counter and are never reused. The lock (`SET NX PX` with an owner token, renewed while held,
 * released only by its owner) only keeps replicas from refreshing at once: correctness never rests
 * on its timing. Records expire at the grant's `refresh_until`. Each change is published, so every
 * replica drops its in-memory copy of that record at once and serves reads from memory otherwise.
 * Grants may be encrypted with AES-256-GCM under a key from config.
 *
 * @since 0.1.0
 */
import { TokenStore, type VedAuthError } from "@vedauth/core"
import type { ConfigError, Scope } from "effect"
import { Config, Duration, Effect, Layer, Option, type Redacted } from "effect"
import * as internal from "./internal/redisStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * `redis://[user:password@]host:port[/db]`, or `rediss://...` for TLS (verified). A secret: it
   * may carry a password, and never appears in an error or a log line.
   */
  readonly url: Redacted.Redacted<string>
  /** Prepended to every Redis key and the change channel (default `vedauth:`). */
  readonly prefix?: string
  /**
   * Encrypts stored grants (AES-256-GCM): base64 of 32 random bytes (`openssl rand -base64 32`).
   * With a key, plain records are refused; without one, encrypted records are refused.
   */
  readonly encryptionKey?: Redacted.Redacted<string>
  /** Certificates (PEM) to trust for `rediss://` besides the system's, e.g. a private CA. */
  readonly ca?: string
  /** The longest one Redis call may take before it fails with `TokenStoreError` (default 5 seconds). */
  readonly timeout?: Duration.Duration
  /** The lock's life without renewal: how soon a crashed holder's lock frees itself (default 15 seconds). */
  readonly lockTtl?: Duration.Duration
  /** Give up waiting for the lock after this long with `TokenStoreError` (default 60 seconds). */
  readonly lockTimeout?: Duration.Duration
  /** How often a waiter tries the lock again (default 50 milliseconds). */
  readonly pollInterval?: Duration.Duration
}

/**
 * The store as a scoped effect: two connections (commands and change notifications), closed with
 * the scope. Fails with `TokenStoreError` when the URL or key is unusable or Redis cannot be reached.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<TokenStore.Service, VedAuthError.TokenStoreError, Scope.Scope> =>
  internal.make({
    url: options.url,
    prefix: options.prefix ?? "vedauth:",
    encryptionKey: Option.fromNullable(options.encryptionKey),
    ca: options.ca,
    timeout: options.timeout ?? Duration.seconds(5),
    lockTtl: options.lockTtl ?? Duration.seconds(15),
    lockTimeout: options.lockTimeout ?? Duration.seconds(60),
    pollInterval: options.pollInterval ?? Duration.millis(50)
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TokenStore.TokenStore, VedAuthError.TokenStoreError> =>
  Layer.scoped(TokenStore.TokenStore, make(options))

/**
 * The store from `Config`: `VEDAUTH_TOKEN_STORE` (the `redis://` or `rediss://` URL, redacted),
 * `VEDAUTH_STORE_KEY` (optional encryption key), `VEDAUTH_STORE_PREFIX` (optional key prefix).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  overrides: Omit<Options, "url" | "encryptionKey" | "prefix"> = {}
): Layer.Layer<TokenStore.TokenStore, ConfigError.ConfigError | VedAuthError.TokenStoreError> =>
  Layer.unwrapEffect(
    Effect.map(
      Config.all({
        url: Config.redacted("VEDAUTH_TOKEN_STORE"),
        encryptionKey: Config.option(Config.redacted("VEDAUTH_STORE_KEY")),
        prefix: Config.option(Config.nonEmptyString("VEDAUTH_STORE_PREFIX"))
      }),
      ({ encryptionKey, prefix, url }) =>
        layer({
          ...overrides,
          url,
          ...(Option.isSome(encryptionKey) ? { encryptionKey: encryptionKey.value } : {}),
          ...(Option.isSome(prefix) ? { prefix: prefix.value } : {})
        })
    )
  )
