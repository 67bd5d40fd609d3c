import type { PlatformError } from "@effect/platform/Error"
import { FileSystem } from "@effect/platform"
import { Clock, Data, Duration, Effect, FiberRef, Option, Schedule, Scope } from "effect"
import { TokenStoreError } from "../VedAuthError.js"
import { randomHex } from "./random.js"

/**
 * How a lock file behaves. A holder that crashed leaves its lock behind: after `staleAfter` it is
 * taken over. A live holder rewrites its lock's timestamp every `staleAfter / 3` (a heartbeat), so a
 * long refresh is never mistaken for a crash. A waiter gives up after `timeout` with a
 * `TokenStoreError` rather than hang.
 *
 * @internal
 */
export interface LockOptions {
  readonly staleAfter: Duration.Duration
  readonly timeout: Duration.Duration
  readonly pollInterval: Duration.Duration
}

/** @internal */
export const defaultLockOptions: LockOptions = {
  staleAfter: Duration.seconds(30),
  timeout: Duration.seconds(45),
  pollInterval: Duration.millis(50)
}

interface LockContent {
  readonly owner: string
  readonly pid?: number
  readonly at: number
}

class Busy extends Data.TaggedError("Busy")<{ readonly holder: string }> {}

// Locks this fiber already holds (lock path -> our owner id), so that `set` inside `withLock` does
// not wait for itself, and can check the lock is still ours before it writes.
const held = FiberRef.unsafeMake<ReadonlyMap<string, string>>(new Map())

// The pid helps a person reading a stale lock; it is read where the runtime has one, never required.
const currentPid = (): number | undefined => {
  const pid = (globalThis as { readonly process?: { readonly pid?: unknown } }).process?.pid
  return typeof pid === "number" ? pid : undefined
}

const parseContent = (text: string): LockContent | undefined => {
  try {
    const json = JSON.parse(text) as Partial<LockContent> | null
    return json !== null && typeof json.owner === "string" && typeof json.at === "number"
      ? { owner: json.owner, at: json.at, ...(typeof json.pid === "number" ? { pid: json.pid } : {}) }
      : undefined
  } catch {
    return undefined
  }
}

const isReason = (reason: string) => (error: PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === reason

/**
 * A cross-process lock on `lockPath` (created exclusively with flag "wx"), re-entrant for the fiber
 * that holds it, and serialised in-process by a semaphore so fibers do not poll the file system.
 * `run` runs an effect under the lock; `verifyHeld` is for writers under it: it fails if the lock
 * was taken over meanwhile.
 *
 * @internal
 */
export const makeFileLock = (fs: FileSystem.FileSystem, lockPath: string, options: LockOptions) => {
  const semaphore = Effect.unsafeMakeSemaphore(1)
  const storeError = (detail: string) => new TokenStoreError({ detail, path: lockPath })

  const content = (owner: string, at: number): string => {
    const pid = currentPid()
    return JSON.stringify({ owner, at, ...(pid === undefined ? {} : { pid }) } satisfies LockContent)
  }

  const readHolder = Effect.gen(function*() {
    const text = yield* fs.readFileString(lockPath)
    const content = parseContent(text)
    if (content !== undefined) return { text, content: Option.some(content), at: content.at }
    // A lock file with no readable content (its writer died mid-write): its age is its mtime.
    const info = yield* fs.stat(lockPath)
    return { text, content: Option.none<LockContent>(), at: Option.getOrElse(Option.map(info.mtime, (d) => d.getTime()), () => 0) }
  })

  const tryAcquire = (owner: string) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      return yield* fs.writeFileString(lockPath, content(owner, now), { flag: "wx", mode: 0o600 }).pipe(
        Effect.catchIf(isReason("AlreadyExists"), () =>
          Effect.gen(function*() {
            const holder = yield* readHolder.pipe(
              // The holder released it between our attempt and our look: just try again.
              Effect.catchIf(isReason("NotFound"), () => new Busy({ holder: "nobody (released)" }))
            )
            const describe = Option.match(holder.content, {
              onNone: () => "an unreadable lock",
              onSome: (c) => (c.pid === undefined ? `owner ${c.owner.slice(0, 8)}` : `pid ${c.pid}`)
            })
            if (now - holder.at >= Duration.toMillis(options.staleAfter)) {
              // Take over a stale lock only if it is still the one we judged stale.
              const again = yield* fs.readFileString(lockPath).pipe(Effect.orElseSucceed(() => ""))
              if (again === holder.text) yield* fs.remove(lockPath).pipe(Effect.catchIf(isReason("NotFound"), () => Effect.void))
            }
            return yield* new Busy({ holder: describe })
          })
        )
      )
    })

  const release = (owner: string) =>
    fs.readFileString(lockPath).pipe(
      Effect.flatMap((text) => (parseContent(text)?.owner === owner ? fs.remove(lockPath) : Effect.void)),
      // Release must not fail the work done under the lock; a lock left behind goes stale.
      Effect.catchAll((error) => Effect.logWarning("vedauth: could not release the token store lock", error.message))
    )

  // One attempt is uninterruptible (the file is created and its release registered together, by
  // acquireRelease); the waits between attempts are not, so a waiter can be interrupted at once.
  const acquire = (owner: string) =>
    Effect.acquireRelease(tryAcquire(owner), () => release(owner)).pipe(
      Effect.retry({
        schedule: Schedule.spaced(options.pollInterval).pipe(Schedule.upTo(options.timeout)),
        while: (error) => error._tag === "Busy"
      }),
      Effect.catchTags({
        Busy: (busy) =>
          storeError(`timed out after ${Duration.format(options.timeout)} waiting for the token store lock held by ${busy.holder}`),
        SystemError: (error) => storeError(`cannot take the token store lock: ${error.message}`),
        BadArgument: (error) => storeError(`cannot take the token store lock: ${error.message}`)
      })
    )

  // Keeps the lock's timestamp young while we hold it; stops when the lock is no longer ours.
  const heartbeat = (owner: string) => {
    const beat = Effect.gen(function*() {
      const text = yield* fs.readFileString(lockPath)
      if (parseContent(text)?.owner !== owner) return false
      yield* fs.writeFileString(lockPath, content(owner, yield* Clock.currentTimeMillis), { mode: 0o600 })
      return true
    }).pipe(
      Effect.catchAll((error) =>
        Effect.as(Effect.logDebug("vedauth: could not refresh the token store lock", error.message), true)
      )
    )
    const interval = Duration.unsafeDivide(options.staleAfter, 3)
    return Effect.zipRight(Effect.sleep(interval), beat).pipe(
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
    return fs.readFileString(lockPath).pipe(
      Effect.orElseSucceed(() => ""),
      Effect.flatMap((text) => (parseContent(text)?.owner === owner ? Effect.void : Effect.fail(notOurs)))
    )
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
                yield* Scope.extend(acquire(owner), scope)
                yield* Effect.forkIn(heartbeat(owner), scope)
                return yield* Effect.locally(effect, held, new Map([...locks, [lockPath, owner]]))
              }),
            (scope, exit) => Scope.close(scope, exit)
          )
        ))

  return { run, verifyHeld }
}
