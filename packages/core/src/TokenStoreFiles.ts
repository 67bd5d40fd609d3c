/**
 * The hardened file operations behind every local file vedauth reads or writes: the token store,
 * and through `LocalFiles` (the same tag under a name that says so) a keytab, a credential cache,
 * krb5.conf, a client certificate and key, a CA file and a JWT file. Done so that another local user
 * cannot turn them against us: nothing is opened through a symbolic link, nothing but a regular file is read
 * (a FIFO would hang the read, `/dev/zero` would never end), reads are capped, files are created
 * exclusively with their mode set through the descriptor, and the facts the store judges trust by
 * (owner, mode, type) come from `lstat`/`fstat`, not from a second look by name.
 *
 * `@effect/platform`'s `FileSystem` cannot do this (it has no `O_NOFOLLOW`, `O_NONBLOCK` or `lstat`,
 * and opening a FIFO there blocks a thread for good), so core defines the tag and the platform
 * packages implement it: `NodeTokenStoreFiles.layer` on `node:fs`, also used under Deno and Bun.
 * The trust policy (who may own the store, which modes are refused) stays in core, the same on
 * every platform.
 *
 * @since 0.2.0
 */
import type { Effect, Option, Scope } from "effect"
import { Context } from "effect"
import type { TokenStoreError } from "./VedAuthError.js"

/**
 * What `lstat`/`fstat` says about a path or an open file.
 *
 * @since 0.2.0
 * @category models
 */
export interface Info {
  readonly type:
    | "File"
    | "Directory"
    | "SymbolicLink"
    | "FIFO"
    | "Socket"
    | "CharacterDevice"
    | "BlockDevice"
    | "Unknown"
  /** Permission bits (`mode & 0o7777`). */
  readonly mode: number
  /** The owner's user id; `None` where the platform has no owners (Windows). */
  readonly uid: Option.Option<number>
  readonly size: number
}

/**
 * A file this process created and still holds open (the lock file).
 *
 * @since 0.2.0
 * @category models
 */
export interface Handle {
  /** Replaces the whole content through the open descriptor: never reopened by name. */
  readonly rewrite: (text: string) => Effect.Effect<void, TokenStoreError>
}

/**
 * How `readBytes` opens a file.
 *
 * @since 0.2.0
 * @category models
 */
export interface ReadOptions {
  /** At most this many bytes are read; a larger file is refused (one byte past the cap is the most ever read). */
  readonly maxBytes: number
  /**
   * Open through a symbolic link: for files that are links by design (`/etc/krb5.conf` on many
   * systems, a Kubernetes projected token). The target is what `fstat` then judges (type, owner,
   * mode, size), so a link to `/dev/zero` or to another user's file is still refused by its facts.
   */
  readonly followLinks: boolean
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /** This process's user id; `None` where the platform has none (Windows). */
  readonly uid: Option.Option<number>
  /** This process's id and host name, recorded in lock files. */
  readonly pid: Option.Option<number>
  readonly host: string
  /** Whether a process with this id runs on this host (one of another user counts as running). */
  readonly isRunning: (pid: number) => Effect.Effect<boolean>
  /** `lstat`: the path itself, a symbolic link not followed; `None` when nothing is there. */
  readonly lstat: (path: string) => Effect.Effect<Option.Option<Info>, TokenStoreError>
  /** Creates the folder and its missing parents with mode 0700; an existing folder is left as it is. */
  readonly makeDirectory: (path: string) => Effect.Effect<void, TokenStoreError>
  /**
   * Reads a regular file: opened without following a symbolic link and without blocking (a FIFO),
   * checked through the descriptor to be a regular file of at most `maxBytes`, then read through it.
   * `None` when nothing is there; a symbolic link, special file or oversized file is a `TokenStoreError`.
   */
  readonly readFile: (
    path: string,
    maxBytes: number
  ) => Effect.Effect<Option.Option<{ readonly info: Info; readonly text: string }>, TokenStoreError>
  /**
   * Reads a file's bytes by the rules of `readFile` (opened without blocking, a regular file by
   * `fstat`, capped), following a symbolic link only when `followLinks` says so. `None` when
   * nothing is there.
   */
  readonly readBytes: (
    path: string,
    options: ReadOptions
  ) => Effect.Effect<Option.Option<{ readonly info: Info; readonly bytes: Uint8Array }>, TokenStoreError>
  /**
   * Creates a file that must not exist yet (never following or reusing what is there), sets its
   * mode to exactly 0600 through the descriptor, writes `content` and flushes it to disk. `None`
   * when the path exists. The descriptor stays open, for `Handle.rewrite`, until the scope closes.
   */
  readonly createExclusive: (
    path: string,
    content: string | Uint8Array
  ) => Effect.Effect<Option.Option<Handle>, TokenStoreError, Scope.Scope>
  /** Sets the mode of a regular file through a descriptor opened without following a link. */
  readonly restrictMode: (path: string, mode: number) => Effect.Effect<void, TokenStoreError>
  /** Atomic replace within one folder. */
  readonly rename: (from: string, to: string) => Effect.Effect<void, TokenStoreError>
  /** Removes a file; one already gone is fine. */
  readonly remove: (path: string) => Effect.Effect<void, TokenStoreError>
}

/**
 * @since 0.2.0
 * @category tags
 */
export class TokenStoreFiles extends Context.Tag("@vedauth/core/TokenStoreFiles")<TokenStoreFiles, Service>() {}
