import { Clock, Data, Duration, Effect, FiberRef, Option, Schedule, Scope } from "effect"
import type * as TokenStoreFiles from "../TokenStoreFiles.js"
import { TokenStoreError } from "../VedAuthError.js"
import { randomHex } from "./random.js"

/**
 * How a lock file behaves. A live holder rewrites its lock's timestamp every `staleAfter / 3` (a
 * heartbeat, through the descriptor that created the file), so a long refresh is never mistaken for
 * a crash. A lock is stale, and taken over, when its heartbeat stopped `staleAfter` ago, when its
 * process is gone (same host, pid not running), when its timestamp lies in the future (clock skew
 * would otherwise block every run until the clock caught up), or when this waiter has watched it
 * unchanged for `staleAfter`. A waiter gives up after `timeout` with a `TokenStoreError`.
 *
 * The lock only keeps processes from refreshing at once: the store's compare-and-set keeps them
 * correct whatever the lock's timing.
 *
 * @internal
 */
export interface LockOptions {
  readonly staleAfter: Duration.Duration
  readonly timeout: Duration.Duration
  readonly pollInterval: Duration.Duration
  /** The longest one look at the lock file may take (a hung file system must not hang a release). */
  readonly ioTimeout: Duration.Duration
}

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

class Busy extends Data.TaggedError("Busy")<{ readonly holder: string }> {}

// Locks this fiber already holds (lock path -> our owner id), so that `set` inside `withLock` does
// not wait for itself, and can check the lock is still ours before it writes.
const held = FiberRef.unsafeMake<ReadonlyMap<string, string>>(new Map())

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
 * A cross-process lock on `lockPath` (created exclusively), re-entrant for the fiber that holds it,
 * and serialised in-process by a semaphore so fibers do not poll the file system. `run` runs an
 * effect under the lock; `verifyHeld` is for writers under it: it fails if the lock was taken over
 * meanwhile.
 *
 * @internal
 */
export const makeFileLock = (files: TokenStoreFiles.Service, lockPath: string, options: LockOptions) => {
  const semaphore = Effect.unsafeMakeSemaphore(1)
  const storeError = (detail: string) => new TokenStoreError({ detail, path: lockPath })
  const staleMillis = Duration.toMillis(options.staleAfter)

  const content = (owner: string, at: number): string =>
    JSON.stringify(
      { owner, at, ...Option.match(files.pid, { onNone: () => ({}), onSome: (pid) => ({ pid, host: files.host }) }) } satisfies LockContent
    )

  // Interruptible even inside a finalizer (release runs in one), or the timeout could not cut it short.
  const bounded = <A, E>(effect: Effect.Effect<A, E | TokenStoreError, Scope.Scope>) =>
    Effect.timeoutFail(Effect.interruptible(effect), {
      duration: options.ioTimeout,
      onTimeout: () => storeError(`the token store lock did not answer within ${Duration.format(options.ioTimeout)}; is its file system hung?`)
    })
  const readLock = Effect.map(files.readFile(lockPath, lockBytes), Option.map((read) => read.text))

  // Why a lock we found is stale, or undefined while it is live. `watched` is how long this waiter
  // has seen exactly this text: it judges by its own clock, whatever the holder's clock says.
  const staleness = (text: string, now: number, watched: number) =>
    Effect.gen(function*() {
      if (watched >= staleMillis) return `unchanged for ${Duration.format(Duration.millis(watched))}`
      const lock = parseLock(text)
      if (lock === undefined) return undefined
      if (now - lock.at >= staleMillis) return `its heartbeat stopped ${Duration.format(Duration.millis(now - lock.at))} ago`
      if (lock.at - now > staleMillis / 3) return "its timestamp is in the future (clock skew)"
      if (lock.pid !== undefined && lock.host === files.host && !(yield* files.isRunning(lock.pid))) {
        return `its process (pid ${lock.pid}) is no longer running`
      }
      return undefined
    })

  const describeHolder = (text: string) => {
    const lock = parseLock(text)
    return lock === undefined ? "an unreadable lock" : lock.pid === undefined ? `owner ${lock.owner.slice(0, 8)}` : `pid ${lock.pid}`
  }

  // One attempt: create the lock file, or look at the one there and take it over if stale.
  const tryAcquire = (owner: string, seen: { text: string; since: number }) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const created = yield* files.createExclusive(lockPath, content(owner, now))
      if (Option.isSome(created)) return created.value
      const current = yield* readLock
      // The holder released it between our attempt and our look: just try again.
      if (Option.isNone(current)) return yield* new Busy({ holder: "nobody (released)" })
      if (current.value !== seen.text) {
        seen.text = current.value
        seen.since = now
      }
      const stale = yield* staleness(current.value, now, now - seen.since)
      if (stale !== undefined) {
        // Take it over only if it is still the one we judged stale.
        const again = yield* readLock
        if (Option.getOrUndefined(again) === current.value) {
          yield* Effect.logWarning(`vedauth: taking over the token store lock held by ${describeHolder(current.value)}: ${stale}`)
          yield* files.remove(lockPath)
        }
      }
      return yield* new Busy({ holder: describeHolder(current.value) })
    })

  const release = (owner: string) =>
    readLock.pipe(
      Effect.flatMap((text) => (Option.isSome(text) && parseLock(text.value)?.owner === owner ? files.remove(lockPath) : Effect.void)),
      bounded,
      Effect.scoped,
      // Release must not fail the work done under the lock; a lock left behind goes stale.
      Effect.catchAll((error) => Effect.logWarning("vedauth: could not release the token store lock", error.detail))
    )

  // Release is registered before the first attempt (it removes the lock only if it is ours), so
  // no attempt needs to be uninterruptible: a waiter can be interrupted at once, and a lock created
  // just before an interruption is still released. The lock's descriptor closes with the scope.
  const acquire = (owner: string, scope: Scope.Scope) => {
    const seen = { text: "", since: 0 }
    return Scope.addFinalizer(scope, release(owner)).pipe(
      Effect.zipRight(
        Scope.extend(bounded(tryAcquire(owner, seen)), scope).pipe(
          Effect.retry({
            schedule: Schedule.spaced(options.pollInterval).pipe(Schedule.upTo(options.timeout)),
            while: (error) => error._tag === "Busy"
          })
        )
      ),
      Effect.catchTags({
        Busy: (busy) =>
          storeError(`timed out after ${Duration.format(options.timeout)} waiting for the token store lock held by ${busy.holder}`)
      })
    )
  }

  const isOurs = (owner: string) => Effect.map(readLock, (text) => Option.isSome(text) && parseLock(text.value)?.owner === owner)

  // Keeps the lock's timestamp young while we hold it, through our own descriptor (a name swapped
  // for a symbolic link is never written through); stops when the lock is no longer ours.
  const heartbeat = (owner: string, handle: TokenStoreFiles.Handle) => {
    const beat = Effect.gen(function*() {
      if (!(yield* isOurs(owner))) return false
      yield* handle.rewrite(content(owner, yield* Clock.currentTimeMillis))
      return true
    }).pipe(
      bounded,
      Effect.scoped,
      Effect.catchAll((error) => Effect.as(Effect.logDebug("vedauth: could not refresh the token store lock", error.detail), true))
    )
    return Effect.zipRight(Effect.sleep(Duration.unsafeDivide(options.staleAfter, 3)), beat).pipe(
      Effect.repeat({ while: (stillOurs) => stillOurs }),
      Effect.zipRight(Effect.logWarning("vedauth: the token store lock was taken over while this process held it"))
    )
  }

  const notOurs = storeError(
    "the token store lock was taken over while this process held it (it looked abandoned); " +
      "not writing, so as not to overwrite another process's grant"
  )

  /** Fails unless the lock this fiber holds (if any) is still ours: never write unlocked. */
  const verifyHeld: Effect.Effect<void, TokenStoreError> = Effect.flatMap(FiberRef.get(held), (locks) => {
    const owner = locks.get(lockPath)
    if (owner === undefined) return Effect.void
    return Effect.flatMap(isOurs(owner).pipe(Effect.orElseSucceed(() => false)), (ours) => (ours ? Effect.void : Effect.fail(notOurs)))
  })

  const run = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | TokenStoreError, R> =>
    Effect.flatMap(FiberRef.get(held), (locks) =>
      locks.has(lockPath)
        ? effect
        : semaphore.withPermits(1)(
          Effect.acquireUseRelease(
            Scope.make(),
            (scope) =>
              Effect.gen(function*() {
                const owner = randomHex(16)
                const handle = yield* acquire(owner, scope)
                // Interruptible whatever the caller's region: a fork inherits it, and under a finalizer
                // (a cleanup's write) closing the scope would wait forever for an uninterruptible beat.
                yield* Effect.forkIn(Effect.interruptible(heartbeat(owner, handle)), scope)
                return yield* Effect.locally(effect, held, new Map([...locks, [lockPath, owner]]))
              }),
            (scope, exit) => Scope.close(scope, exit)
          )
        ))

  return { run, verifyHeld }
}
