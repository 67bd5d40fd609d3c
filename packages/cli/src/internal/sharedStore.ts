/**
 * The token store replicas and machines share, on Redis (`@vedauth/store-redis`), when the store
 * setting is a `redis://` or `rediss://` URL. Its other settings come from the environment only,
 * as in a deployment every replica has the same: `VEDAUTH_STORE_KEY` (a secret: never a flag, which
 * `ps` would show), `VEDAUTH_STORE_PREFIX` and `VEDAUTH_STORE_CA`. The Redis client is loaded only
 * when such a store is used.
 * @internal
 */
import * as LocalFiles from "@vedauth/core/LocalFiles"
import type * as TokenStore from "@vedauth/core/TokenStore"
import { storeUrlScheme } from "@vedauth/core/TokenStoreFormat"
import type { TokenStoreError } from "@vedauth/core/VedAuthError"
import * as NodeTokenStoreFiles from "@vedauth/platform-node/NodeTokenStoreFiles"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { UsageError } from "./errors.js"
import { type Env, noStoreLocation, type Selected } from "./selection.js"
import { profilesFileOf, shownStoreUrl, storeUrlHasPassword } from "./sharedStoreAddress.js"
import { safeText } from "./terminalText.js"

/** A Redis store's settings; the URL and the key stay `Redacted`. @internal */
export interface SharedStore {
  readonly url: Redacted.Redacted<string>
  readonly encryptionKey: Redacted.Redacted<string> | undefined
  readonly prefix: string | undefined
  /** The PEM text of `VEDAUTH_STORE_CA`. */
  readonly ca: string | undefined
}

/** Where grants are kept: `store` is the file, or the URL as it may be shown (no password). @internal */
export interface StorePlace {
  readonly store: string
  readonly shared: SharedStore | undefined
}

const nonEmpty = (value: string | undefined) => (value === undefined || value === "" ? undefined : value)

// Not --ca-file: that names who signs TPP's certificate; the Redis server's is usually another CA,
// and trusting either for both would widen both.
// Through the one hardened reader: a CA file another user could write would let them vouch for a
// Redis of their own.
const readStoreCa = (path: string) =>
  LocalFiles.readExistingText(path, "caFile").pipe(
    Effect.mapError((error) =>
      new UsageError({
        detail: `cannot read the store's CA file '${safeText(path)}': ${safeText(error.detail)} (VEDAUTH_STORE_CA)`
      })
    ),
    Effect.provide(NodeTokenStoreFiles.layer)
  )

/**
 * The store a `--store`/`VEDAUTH_TOKEN_STORE` value names and where its profiles live: a file as
 * before, or a Redis URL (any other URL is a usage error that does not quote it).
 * @internal
 */
export const storePlace = (store: Selected, env: Env) =>
  Effect.gen(function*() {
    const scheme = storeUrlScheme(store.value)
    const profilesFile = profilesFileOf(store.value, env)
    if (profilesFile === undefined) {
      return yield* new UsageError({
        detail: `a store URL keeps its profiles in the local state folder, and ${noStoreLocation}`
      })
    }
    if (scheme === undefined) return { store: store.value, shared: undefined, profilesFile }
    if (scheme !== "redis" && scheme !== "rediss") {
      return yield* new UsageError({
        detail: `the token store is a ${
          safeText(scheme)
        }:// URL: a store URL is redis:// or rediss://, else give a file (${store.from})`
      })
    }
    // Arguments are public on Unix (ps, /proc/PID/cmdline) from the moment the process starts; Node
    // cannot take them back (docs/security.md): the password belongs in the environment.
    if (store.from === "--store" && storeUrlHasPassword(store.value)) {
      return yield* new UsageError({
        detail:
          `--store ${
            safeText(shownStoreUrl(store.value))
          } carries a password, which every local user can read in ps and /proc/PID/cmdline: ` +
          "give the URL in the environment variable VEDAUTH_TOKEN_STORE instead, which may carry it"
      })
    }
    const caFile = nonEmpty(env["VEDAUTH_STORE_CA"])
    const key = nonEmpty(env["VEDAUTH_STORE_KEY"])
    const shared: SharedStore = {
      url: Redacted.make(store.value),
      encryptionKey: key === undefined ? undefined : Redacted.make(key),
      prefix: nonEmpty(env["VEDAUTH_STORE_PREFIX"]),
      ca: caFile === undefined ? undefined : yield* readStoreCa(caFile)
    }
    return { store: shownStoreUrl(store.value), shared, profilesFile }
  })

/**
 * The Redis store as a layer; failing to reach Redis, or a key that is not one, is a
 * `TokenStoreError` (exit code 6) whose message names the host and port, never the password.
 * @internal
 */
export const sharedStoreLayer = (shared: SharedStore): Layer.Layer<TokenStore.TokenStore, TokenStoreError> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("@vedauth/store-redis/RedisTokenStore")),
      (RedisTokenStore) =>
        RedisTokenStore.layer({
          url: shared.url,
          ...(shared.encryptionKey === undefined ? {} : { encryptionKey: shared.encryptionKey }),
          ...(shared.prefix === undefined ? {} : { prefix: shared.prefix }),
          ...(shared.ca === undefined ? {} : { ca: shared.ca })
        })
    )
  )

/** NodeVedAuth's store options for a place: the file's path, or the Redis store. @internal */
export const vedAuthStoreOptions = (
  place: StorePlace
): { readonly tokenStorePath: string } | { readonly tokenStore: Layer.Layer<TokenStore.TokenStore, TokenStoreError> } =>
  place.shared === undefined ? { tokenStorePath: place.store } : { tokenStore: sharedStoreLayer(place.shared) }
