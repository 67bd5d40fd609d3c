import { Duration, Effect, Either, Option } from "effect"
import * as LeaseLock from "../LeaseLock.js"
import type * as TokenStoreFiles from "../TokenStoreFiles.js"

/**
 * How a lock file behaves (see `LeaseLock` for the rules every store's lock shares). A live holder
 * rewrites its lock's timestamp every `staleAfter / 3` through the descriptor that created the
 * file, so a long refresh is never mistaken for a crash.
 *
 * @internal
 */
export type LockOptions = LeaseLock.Options

const staleAfter = Duration.seconds(30)

/** @internal */
export const defaultLockOptions: LockOptions = {
  staleAfter,
  // A crashed holder's lock goes stale after `staleAfter`; then one re-authorize must still fit.
  timeout: Duration.sum(staleAfter, Duration.seconds(60)),
  pollInterval: Duration.millis(50),
  ioTimeout: Duration.seconds(10)
}

/** @internal */
export interface LockContent {
  readonly owner: string
  readonly at: number
  readonly pid?: number
  readonly host?: string
}

/** @internal */
export const parseLock = (text: string): LockContent | undefined => {
  try {
    const json = JSON.parse(text) as Partial<LockContent> | null
    return json !== null && typeof json === "object" && typeof json.owner === "string" && typeof json.at === "number"
      ? {
        owner: json.owner,
        at: json.at,
        ...(typeof json.pid === "number" ? { pid: json.pid } : {}),
        ...(typeof json.host === "string" ? { host: json.host } : {})
      }
      : undefined
  } catch {
    return undefined
  }
}

const lockBytes = 4096

/**
 * The lock file's medium for `LeaseLock`: created exclusively (never through a link), its JSON
 * (owner, timestamp, pid and host) rewritten through the creating descriptor, removed by name only
 * after reading that it is still ours (or still the stale one we judged).
 *
 * @internal
 */
export const fileLockBackend = (
  files: TokenStoreFiles.Service,
  lockPath: string
): LeaseLock.Backend<TokenStoreFiles.Handle> => {
  const content = (owner: string, at: number): string =>
    JSON.stringify(
      {
        owner,
        at,
        ...Option.match(files.pid, { onNone: () => ({}), onSome: (pid) => ({ pid, host: files.host }) })
      } satisfies LockContent
    )
  const readLock = Effect.map(files.readFile(lockPath, lockBytes), Option.map((read) => read.text))
  const holderOf = (text: string): LeaseLock.Holder => {
    const lock = parseLock(text)
    return lock === undefined ? { text } : { text, at: lock.at, pid: lock.pid, host: lock.host }
  }
  const holds = (owner: string) =>
    Effect.map(readLock, (text) => Option.isSome(text) && parseLock(text.value)?.owner === owner)
  return {
    describe: lockPath,
    path: lockPath,
    hungHint: "is its file system hung?",
    host: files.host,
    isRunning: files.isRunning,
    tryTake: (owner, now) =>
      Effect.gen(function*() {
        const created = yield* files.createExclusive(lockPath, content(owner, now))
        if (Option.isSome(created)) return Either.right(created.value)
        return Either.left(Option.map(yield* readLock, holderOf))
      }),
    renew: (owner, handle, now) =>
      Effect.flatMap(
        holds(owner),
        (ours) => (ours ? Effect.as(handle.rewrite(content(owner, now)), true) : Effect.succeed(false))
      ),
    holds,
    release: (owner) => Effect.flatMap(holds(owner), (ours) => (ours ? files.remove(lockPath) : Effect.void)),
    breakStale: (holder) =>
      Effect.flatMap(
        readLock,
        (text) => (Option.getOrUndefined(text) === holder.text ? files.remove(lockPath) : Effect.void)
      )
  }
}

/**
 * A cross-process lock on `lockPath`: `LeaseLock` over the lock file.
 *
 * @internal
 */
export const makeFileLock = (files: TokenStoreFiles.Service, lockPath: string, options: LockOptions) => {
  const lock = LeaseLock.make(fileLockBackend(files, lockPath), options)
  return { run: lock.withLock, verifyHeld: lock.verifyHeld }
}
