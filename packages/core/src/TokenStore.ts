/**
 * Where grants are kept between calls and between runs, by key (server, client_id, scope, user).
 *
 * The contract is compare-and-set on a versioned record: `read` gives a grant with its version,
 * `compareAndSet` writes only over the version it was given, so two processes (or replicas on many
 * machines) that both refreshed can never overwrite each other's newer pair. The lock (`withLock`)
 * only keeps them from refreshing at once; correctness never depends on its timing. Every store
 * (memory, file, and stores in other packages) passes the same conformance suite
 * (`TokenStoreConformance` in `@vedauth/testing`).
 *
 * @since 0.1.0
 */
import { Path } from "@effect/platform"
import type { Duration } from "effect"
import { Config, ConfigError, Context, Effect, Layer, Option } from "effect"
import type { Grant } from "./Grant.js"
import * as internalFile from "./internal/tokenStoreFile.js"
import * as internalMemory from "./internal/tokenStoreMemory.js"
import type { TokenStoreFiles } from "./TokenStoreFiles.js"
import * as Format from "./TokenStoreFormat.js"
import { TokenStoreError } from "./VedAuthError.js"

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
 * A record's version: opaque, compared only for equality. A store never gives the same version to
 * two different writes of one key, not even after a remove (so a compare-and-set cannot be fooled
 * by a record removed and written again in between).
 *
 * @since 0.2.0
 * @category models
 */
export type Version = string

/**
 * A stored grant and the version it was read at.
 *
 * @since 0.2.0
 * @category models
 */
export interface Versioned {
  readonly grant: Grant
  readonly version: Version
}

/**
 * A stored grant with its key, as `list` gives them. Keys come back normalized (`keyString`'s
 * form: server and user in lower case, no trailing slash on the server).
 *
 * @since 0.2.0
 * @category models
 */
export interface Entry extends Versioned {
  readonly key: Key
}

/**
 * What `compareAndSet` did. Both outcomes carry the record as it now is: after `Written`, the one
 * just written (`None` after a removal); after `Conflict`, the newer one someone else wrote (or
 * `None` if they removed it), so the caller can use it without reading again.
 *
 * @since 0.2.0
 * @category models
 */
export type WriteResult =
  | { readonly _tag: "Written"; readonly current: Option.Option<Versioned> }
  | { readonly _tag: "Conflict"; readonly current: Option.Option<Versioned> }

/**
 * What a store backend must provide: versioned reads, an atomic compare-and-set, a listing, and a
 * lock (for a persistent store, `LeaseLock` over its medium). `make` derives the rest of the
 * service from these, once for every store.
 *
 * @since 0.3.0
 * @category models
 */
export interface Backend {
  /** The grant stored under `key` with its version. */
  readonly read: (key: Key) => Effect.Effect<Option.Option<Versioned>, TokenStoreError>
  /**
   * Writes `next` (a grant, or `None` to remove) only if the record is still at `expected` (`None`:
   * only if there is none). Atomic: of two writers that read the same version, exactly one wins.
   */
  readonly compareAndSet: (
    key: Key,
    expected: Option.Option<Version>,
    next: Option.Option<Grant>
  ) => Effect.Effect<WriteResult, TokenStoreError>
  /** Every stored grant with its key and version (for `vedauth status`). */
  readonly list: Effect.Effect<ReadonlyArray<Entry>, TokenStoreError>
  /**
   * Runs `effect` while holding the key's lock: no other fiber, and for persistent stores no other
   * process, holds it at the same time. Used around refresh and re-authorize. A `read` inside sees
   * every write made before the lock was taken (a store that serves reads from a local copy must
   * not serve a copy older than that: the managed grant decides to authorize on what it reads there).
   */
  readonly withLock: <A, E, R>(key: Key, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | TokenStoreError, R>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service extends Backend {
  readonly get: (key: Key) => Effect.Effect<Option.Option<Grant>, TokenStoreError>
  /** Writes whatever is there (a new version). Prefer `compareAndSet` where another writer may race. */
  readonly set: (key: Key, grant: Grant) => Effect.Effect<void, TokenStoreError>
  readonly remove: (key: Key) => Effect.Effect<void, TokenStoreError>
}

// How often `set` and `remove` start over when other writers keep moving the record.
const overwriteRounds = 16

/**
 * A store from its backend: `get` is `read` without the version; `set` and `remove` are a
 * compare-and-set over the version just read, started over (a bounded number of times) while
 * other writers move the record.
 *
 * @since 0.3.0
 * @category constructors
 */
export const make = (backend: Backend): Service => {
  const overwrite = (key: Key, next: Option.Option<Grant>, left: number): Effect.Effect<void, TokenStoreError> =>
    Effect.flatMap(
      backend.read(key),
      (current) =>
        Effect.flatMap(
          backend.compareAndSet(key, Option.map(current, (record) => record.version), next),
          (result) =>
            result._tag === "Written"
              ? Effect.void
              : left > 0
              ? overwrite(key, next, left - 1)
              : Effect.fail(
                new TokenStoreError({ detail: "the record kept changing under other writers; not written" })
              )
        )
    )
  return {
    ...backend,
    get: (key) => Effect.map(backend.read(key), Option.map((record) => record.grant)),
    set: (key, grant) => overwrite(key, Option.some(grant), overwriteRounds),
    remove: (key) => overwrite(key, Option.none(), overwriteRounds)
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@vedauth/core/TokenStore")<TokenStore, Service>() {}

/**
 * The text a key is stored under: server and user in lower case, no trailing slash on the server
 * (`TokenStoreFormat.keyString`).
 *
 * @since 0.1.0
 * @category keys
 */
export const keyString: (key: Key) => string = Format.keyString

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
  /**
   * A lock whose holder stopped beating its heart this long ago was left by a crashed process and
   * is taken over (default 30 seconds). A lock whose process is gone (same host, pid not running)
   * or whose timestamp lies in the future is taken over at once.
   */
  readonly staleAfter?: Duration.Duration
  /**
   * Give up waiting for the lock after this long with a `TokenStoreError` (default `staleAfter`
   * plus 60 seconds: long enough for a crashed holder's lock to go stale and one re-authorize).
   */
  readonly timeout?: Duration.Duration
  /** How often a waiter looks at the lock file again (default 50 milliseconds). */
  readonly pollInterval?: Duration.Duration
  /** A store file larger than this is refused, not read (default 4 MiB). */
  readonly maxFileBytes?: number
  /**
   * The longest one read or write of the store may take before it fails with a `TokenStoreError`
   * (default 10 seconds): a hung network file system never hangs the program.
   */
  readonly ioTimeout?: Duration.Duration
}

/**
 * The persistent store: one JSON file with a format marker and version, mode 0600 in a 0700
 * folder, replaced atomically (temp file + rename), and a lock file beside it so that processes
 * sharing the file refresh one at a time. The file and folder are trusted only if they are the
 * user's own and not writable by others (checked through `TokenStoreFiles`, which never follows
 * a symbolic link nor reads a special file); a corrupt or foreign file is reported as
 * `TokenStoreError` and never overwritten. Every operation runs under `ioTimeout`.
 *
 * Provide `TokenStoreFiles` (`NodeTokenStoreFiles.layer` from `@vedauth/platform-node`, also for
 * Deno and Bun) and a `Path`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerFileSystem = (
  options: FileSystemOptions
): Layer.Layer<TokenStore, never, TokenStoreFiles | Path.Path> =>
  Layer.effect(TokenStore, internalFile.makeFile(options))

/**
 * True when a store setting is a URL (`redis://...`, `rediss://...`, any `scheme://`) rather than a
 * file path. The file store refuses such a value instead of creating a folder called `redis:`.
 *
 * @since 0.1.0
 * @category config
 */
export const isStoreUrl: (value: string) => boolean = Format.isStoreUrl

// The value itself is never quoted: a store URL may carry a password.
const urlNotPath = (value: string): string => {
  const scheme = Format.storeUrlScheme(value) ?? ""
  return scheme === "redis" || scheme === "rediss"
    ? `the token store is a ${scheme}:// URL, not a file path: provide the Redis store, ` +
      "RedisTokenStore.layerConfig() from @vedauth/store-redis (with NodeVedAuth: its `tokenStore` option)"
    : `the token store is a ${scheme}:// URL, not a file path: the file store takes a path`
}

const filePath = (value: string, configPath: Array<string>): Effect.Effect<string, ConfigError.ConfigError> =>
  isStoreUrl(value) ? Effect.fail(ConfigError.InvalidData(configPath, urlNotPath(value))) : Effect.succeed(value)

/**
 * Where `Live` keeps the store: `VEDAUTH_TOKEN_STORE`, else `$XDG_STATE_HOME/vedauth/tokens.json`,
 * else `$HOME/.local/state/vedauth/tokens.json`, else `%LOCALAPPDATA%\vedauth\tokens.json`.
 * A `VEDAUTH_TOKEN_STORE` that is a URL (`redis://...`; see `isStoreUrl`) fails with a `ConfigError`
 * that names the store to provide instead (the URL itself is never quoted: it may hold a password).
 *
 * @since 0.1.0
 * @category config
 */
export const defaultPath: Effect.Effect<string, ConfigError.ConfigError, Path.Path> = Effect.gen(function*() {
  const path = yield* Path.Path
  const nonEmpty = (name: string) => Effect.map(Config.option(Config.nonEmptyString(name)), Option.getOrUndefined)
  const explicit = yield* nonEmpty("VEDAUTH_TOKEN_STORE")
  if (explicit !== undefined) return yield* filePath(explicit, ["VEDAUTH_TOKEN_STORE"])
  const values = new Map<string, string | undefined>()
  for (const name of Format.locationVariables) values.set(name, yield* nonEmpty(name))
  const location = Format.defaultLocation((name) => values.get(name))
  if (location === undefined) {
    const names = ["VEDAUTH_TOKEN_STORE", ...Format.locationVariables].join(", ")
    return yield* Effect.fail(
      ConfigError.MissingData(["LOCALAPPDATA"], `none of ${names} is set to place the token store in`)
    )
  }
  return path.join(...location.segments)
})

/**
 * The file store at a path read from `Config` (default: `defaultPath`); a URL instead of a path
 * fails with a `ConfigError` (see `defaultPath`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  path?: Config.Config<string>
): Layer.Layer<TokenStore, ConfigError.ConfigError, TokenStoreFiles | Path.Path> =>
  Layer.unwrapEffect(
    Effect.map(path === undefined ? defaultPath : Effect.flatMap(path, (path) => filePath(path, [])), (path) =>
      layerFileSystem({ path }))
  )

/**
 * The default persistent store: `layerConfig()` (see `defaultPath`). Provide `TokenStoreFiles` and
 * a `Path`, e.g. `NodeTokenStoreFiles.layer` and `NodeContext.layer` (`NodeVedAuth.layer` does).
 *
 * @since 0.1.0
 * @category layers
 */
export const Live: Layer.Layer<TokenStore, ConfigError.ConfigError, TokenStoreFiles | Path.Path> = layerConfig()
