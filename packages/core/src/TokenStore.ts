/**
 * Where grants are kept between calls and between runs, by key (server, client_id, scope, user),
 * with a lock so that a refresh is single-flight across processes too.
 *
 * @since 0.1.0
 */
import type { FileSystem } from "@effect/platform"
import { Path } from "@effect/platform"
import type { ConfigError, Duration } from "effect"
import { Config, Context, Effect, Layer, Option } from "effect"
import type { Grant } from "./Grant.js"
import * as internalFile from "./internal/tokenStoreFile.js"
import * as internalMemory from "./internal/tokenStoreMemory.js"
import type { TokenStoreError } from "./VedAuthError.js"

/**
 * What a grant is stored under. One store holds grants for many servers, clients, scopes and users.
 *
 * @since 0.1.0
 * @category models
 */
export interface Key {
  readonly server: string
  readonly clientId: string
  readonly scope: string
  readonly user: string
}

/**
 * One stored grant and the key it is stored under, as `list` returns it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Entry {
  /** The key as stored: server and user in the lower case `keyString` compares them in. */
  readonly key: Key
  readonly grant: Grant
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly get: (key: Key) => Effect.Effect<Option.Option<Grant>, TokenStoreError>
  /** Every stored grant with its key (e.g. for a status listing, or to find the one grant of a server and client). */
  readonly list: Effect.Effect<ReadonlyArray<Entry>, TokenStoreError>
  readonly set: (key: Key, grant: Grant) => Effect.Effect<void, TokenStoreError>
  readonly remove: (key: Key) => Effect.Effect<void, TokenStoreError>
  /**
   * Runs `effect` while holding the key's lock: no other fiber, and for persistent stores no other
   * process, holds it at the same time. Used around refresh and re-authorize.
   */
  readonly withLock: <A, E, R>(key: Key, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | TokenStoreError, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@vedauth/core/TokenStore")<TokenStore, Service>() {}

/**
 * The text a key is stored under.
 *
 * @since 0.1.0
 * @category keys
 */
export const keyString = (key: Key): string =>
  JSON.stringify([key.server.toLowerCase().replace(/\/+$/, ""), key.clientId, key.scope, key.user.toLowerCase()])

/**
 * The key back from its text (`keyString`), or `None` when the text is not one.
 *
 * @since 0.1.0
 * @category keys
 */
export const parseKeyString = (text: string): Option.Option<Key> => {
  try {
    const parts: unknown = JSON.parse(text)
    if (Array.isArray(parts) && parts.length === 4 && parts.every((part) => typeof part === "string")) {
      const [server, clientId, scope, user] = parts as [string, string, string, string]
      return Option.some({ server, clientId, scope, user })
    }
  } catch {
    // not JSON: not a key
  }
  return Option.none()
}

/**
 * A store in memory, for tests and for programs that authorize on every run. Its lock is a
 * semaphore per key: single flight within the process.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<TokenStore> = Layer.effect(TokenStore, internalMemory.makeMemory)

/**
 * Options of the file store.
 *
 * @since 0.1.0
 * @category models
 */
export interface FileSystemOptions {
  /** The store file, e.g. `~/.local/state/vedauth/tokens.json`. Its folder is created with mode 0700. */
  readonly path: string
  /** A lock older than this was left by a crashed process and is taken over (default 30 seconds). */
  readonly staleAfter?: Duration.Duration
  /** Give up waiting for the lock after this long with a `TokenStoreError` (default 45 seconds). */
  readonly timeout?: Duration.Duration
  /** How often a waiter looks at the lock file again (default 50 milliseconds). */
  readonly pollInterval?: Duration.Duration
}

/**
 * The persistent store on `@effect/platform`'s `FileSystem`: one JSON file with a format marker and
 * version, mode 0600 in a 0700 folder, replaced atomically (temp file + rename), and a lock file
 * beside it so that processes sharing the file refresh one at a time. A corrupt or foreign file is
 * reported as `TokenStoreError` and never overwritten.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileSystem = (options: FileSystemOptions): Layer.Layer<TokenStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(TokenStore, internalFile.makeFile(options))

/**
 * Where `Live` keeps the store: `VEDAUTH_TOKEN_STORE`, else `$XDG_STATE_HOME/vedauth/tokens.json`,
 * else `$HOME/.local/state/vedauth/tokens.json`, else `%LOCALAPPDATA%\vedauth\tokens.json`.
 *
 * @since 0.1.0
 * @category config
 */
export const defaultPath: Effect.Effect<string, ConfigError.ConfigError, Path.Path> = Effect.gen(function*() {
  const path = yield* Path.Path
  const nonEmpty = (name: string) => Config.option(Config.nonEmptyString(name))
  const explicit = yield* nonEmpty("VEDAUTH_TOKEN_STORE")
  if (explicit._tag === "Some") return explicit.value
  const state = yield* nonEmpty("XDG_STATE_HOME")
  if (state._tag === "Some") return path.join(state.value, "vedauth", "tokens.json")
  const home = yield* nonEmpty("HOME")
  if (home._tag === "Some") return path.join(home.value, ".local", "state", "vedauth", "tokens.json")
  const local = yield* Config.nonEmptyString("LOCALAPPDATA").pipe(
    Config.withDescription("no VEDAUTH_TOKEN_STORE, XDG_STATE_HOME, HOME or LOCALAPPDATA to place the token store in")
  )
  return path.join(local, "vedauth", "tokens.json")
})

/**
 * The file store at a path read from `Config` (default: `defaultPath`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  path?: Config.Config<string>
): Layer.Layer<TokenStore, ConfigError.ConfigError, FileSystem.FileSystem | Path.Path> =>
  Layer.unwrapEffect(
    Effect.map(path === undefined ? defaultPath : path, (path) => layerFileSystem({ path }))
  )

/**
 * The default persistent store: `layerConfig()` (see `defaultPath`). Provide a `FileSystem` and a
 * `Path`, e.g. `NodeContext.layer`.
 *
 * @since 0.1.0
 * @category layers
 */
export const Live: Layer.Layer<TokenStore, ConfigError.ConfigError, FileSystem.FileSystem | Path.Path> = layerConfig()
