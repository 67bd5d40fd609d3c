/**
 * The lease lock every persistent token store shares: written once here, so the rules that keep a
 * crashed holder from blocking everyone (and a live one from being robbed) are the same for a lock
 * file and for a Redis key. A backend only provides the four primitives of its medium: take the
 * lock if free, renew it while ours, release it if ours, and break it if it is still exactly the
 * stale one we saw.
 *
 * The rules:
 * - fibers of one process queue on a per-lock semaphore, so only one of them polls the medium;
 * - the lock is re-entrant for the fiber that holds it (a write under `withLock` does not wait
 *   for itself);
 * - a live holder renews its lease every `renewEvery`, and every renewal changes the lock's text;
 * - a lock is stale, and broken, when this waiter has watched exactly the same text for
 *   `staleAfter` (by its own clock, whatever the holder's clock says: a lock without expiry left
 *   by a crashed holder, a holder paused or gone), or, where the backend's timestamps are from
 *   this host, when its beat stopped `staleAfter` ago, lies in the future, or names a process that
 *   no longer runs here;
 * - a waiter gives up after `timeout`; every look at the medium is bounded by `ioTimeout`; every
 *   wait is interruptible, and release is registered before the first attempt.
 *
 * The lock only keeps processes from renewing at once: correctness comes from the store's
 * compare-and-set, whatever the lock's timing.
 *
 * @since 0.3.0
 */
import type { Either, Scope } from "effect"
import { Clock, Data, Duration, Effect, FiberRef, Option, Schedule, Scope as ScopeNs } from "effect"
import { TokenStoreError } from "./VedAuthError.js"

/**
 * A lock as a waiter finds it. `text` identifies the holder and its last renewal (it changes on
 * every renewal); `at`, `pid` and `host` are given only by a backend whose holders write this
 * host's clock and process ids (a lock file), and are then judged too.
 *
 * @since 0.3.0
 * @category models
 */
export interface Holder {
  readonly text: string
  readonly at?: number | undefined
  readonly pid?: number | undefined
  readonly host?: string | undefined
}

/**
 * What a lock medium provides.
 *
 * @since 0.3.0
 * @category models
 */
export interface Backend<Handle> {
  /** What the lock is called in messages (a path, a Redis key without secrets). */
  readonly describe: string
  /** The lock file's path, for errors (`TokenStoreError.path`). */
  readonly path?: string | undefined
  /** What a look at the medium that does not answer suggests (e.g. "is its file system hung?"). */
  readonly hungHint?: string | undefined
  /**
   * Takes the lock for `owner` if nobody holds it: `Right` with a handle (kept until release), else
   * `Left` with the holder found (`None`: released meanwhile, try again at once).
   */
  readonly tryTake: (
    owner: string,
    now: number
  ) => Effect.Effect<Either.Either<Handle, Option.Option<Holder>>, TokenStoreError, Scope.Scope>
  /** Renews the lease with a new text for `now`; `false` once the lock is no longer `owner`'s. */
  readonly renew: (owner: string, handle: Handle, now: number) => Effect.Effect<boolean, TokenStoreError>
  /** Whether `owner` holds the lock now. */
  readonly holds: (owner: string) => Effect.Effect<boolean, TokenStoreError>
  /** Removes the lock if `owner` holds it. */
  readonly release: (owner: string) => Effect.Effect<void, TokenStoreError>
  /** Removes the lock if it is still exactly `holder` (the one judged stale). */
  readonly breakStale: (holder: Holder) => Effect.Effect<void, TokenStoreError>
  /** Whether a process with this id runs on this host (for holders that name one). */
  readonly isRunning?: ((pid: number) => Effect.Effect<boolean>) | undefined
  /** This host's name, compared with a holder's `host`. */
  readonly host?: string | undefined
}

/**
 * @since 0.3.0
 * @category models
 */
export interface Options {
  readonly staleAfter: Duration.Duration
  readonly timeout: Duration.Duration
  readonly pollInterval: Duration.Duration
  readonly ioTimeout: Duration.Duration
  /** How often a holder renews (default a third of `staleAfter`: two renewals may fail first). */
  readonly renewEvery?: Duration.Duration | undefined
}

/**
 * A lease lock over a backend: `withLock` runs an effect while holding it; `verifyHeld` fails
 * unless the lock this fiber holds (if any) is still its own (for writers under the lock).
 *
 * @since 0.3.0
 * @category models
 */
export interface LeaseLock {
  readonly withLock: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | TokenStoreError, R>
  readonly verifyHeld: Effect.Effect<void, TokenStoreError>
}

class Busy extends Data.TaggedError("Busy")<{ readonly holder: string }> {}

// Locks this fiber holds (lock instance -> owner), for re-entrance and `verifyHeld`.
const held = FiberRef.unsafeMake<ReadonlyMap<string, string>>(new Map())

const newOwner = Effect.sync(() =>
  Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("")
)

/**
 * Why a lock found is stale, or `undefined` while it is live. `watched` is how long this waiter has
 * seen exactly this text.
 *
 * @since 0.3.0
 * @category staleness
 */
export const staleness = <H>(backend: Backend<H>, holder: Holder, now: number, watched: number, staleAfter: number) =>
  Effect.gen(function*() {
    if (watched >= staleAfter) return `unchanged for ${Duration.format(Duration.millis(watched))}`
    if (holder.at === undefined) return undefined
    if (now - holder.at >= staleAfter) {
      return `its heartbeat stopped ${Duration.format(Duration.millis(now - holder.at))} ago`
    }
    if (holder.at - now > staleAfter / 3) return "its timestamp is in the future (clock skew)"
    if (
      holder.pid !== undefined && holder.host === backend.host && backend.isRunning !== undefined &&
      !(yield* backend.isRunning(holder.pid))
    ) {
      return `its process (pid ${holder.pid}) is no longer running`
    }
    return undefined
  })

const describeHolder = (holder: Holder) =>
  holder.pid !== undefined ? `pid ${holder.pid}` : `owner ${holder.text.slice(0, 8)}`

/**
 * @since 0.3.0
 * @category constructors
 */
export const make = <H>(backend: Backend<H>, options: Options): LeaseLock => {
  const semaphore = Effect.unsafeMakeSemaphore(1)
  // Re-entrance is per lock made here: another store's lock on the same medium is another lock.
  const name = `${backend.describe}#${crypto.getRandomValues(new Uint32Array(2)).join("")}`
  const staleMillis = Duration.toMillis(options.staleAfter)
  const storeError = (detail: string) =>
    new TokenStoreError({ detail, ...(backend.path === undefined ? {} : { path: backend.path }) })
  const hung = backend.hungHint === undefined ? "" : `; ${backend.hungHint}`

  // Interruptible even inside a finalizer (release runs in one), or the timeout could not cut it short.
  const bounded = <A, E, R>(effect: Effect.Effect<A, E | TokenStoreError, R>) =>
    Effect.timeoutFail(Effect.interruptible(effect), {
      duration: options.ioTimeout,
      onTimeout: () =>
        storeError(`the token store lock did not answer within ${Duration.format(options.ioTimeout)}${hung}`)
    })

  // One attempt: take the lock, or look at the holder and break its lock if stale.
  const tryAcquire = (owner: string, seen: { text: string; since: number }) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const taken = yield* backend.tryTake(owner, now)
      if (taken._tag === "Right") return taken.right
      if (Option.isNone(taken.left)) return yield* new Busy({ holder: "nobody (released)" })
      const holder = taken.left.value
      if (holder.text !== seen.text) {
        seen.text = holder.text
        seen.since = now
      }
      const stale = yield* staleness(backend, holder, now, now - seen.since, staleMillis)
      if (stale !== undefined) {
        yield* Effect.logWarning(
          `vedauth: taking over the token store lock held by ${describeHolder(holder)}: ${stale}`
        )
        yield* backend.breakStale(holder)
      }
      return yield* new Busy({ holder: describeHolder(holder) })
    })

  // Release must not fail the work done under the lock; a lock left behind goes stale.
  const release = (owner: string) =>
    bounded(backend.release(owner)).pipe(
      Effect.catchAll((error) => Effect.logWarning("vedauth: could not release the token store lock", error.detail))
    )

  // Release is registered before the first attempt (it removes the lock only if it is ours), so
  // no attempt needs to be uninterruptible: a waiter can be interrupted at once.
  const acquire = (owner: string, scope: Scope.Scope) => {
    const seen = { text: "", since: 0 }
    return ScopeNs.addFinalizer(scope, release(owner)).pipe(
      Effect.zipRight(
        ScopeNs.extend(bounded(tryAcquire(owner, seen)), scope).pipe(
          Effect.retry({
            schedule: Schedule.spaced(options.pollInterval).pipe(Schedule.upTo(options.timeout)),
            while: (error) => error._tag === "Busy"
          })
        )
      ),
      Effect.catchTags({
        Busy: (busy) =>
          storeError(
            `timed out after ${
              Duration.format(options.timeout)
            } waiting for the token store lock held by ${busy.holder}`
          )
      })
    )
  }

  // Renews the lease while we hold it; stops (with a warning) once it is no longer ours.
  const heartbeat = (owner: string, handle: H) => {
    const every = options.renewEvery ?? Duration.unsafeDivide(options.staleAfter, 3)
    const beat = Effect.flatMap(Clock.currentTimeMillis, (now) => backend.renew(owner, handle, now)).pipe(
      bounded,
      Effect.catchAll((error) =>
        Effect.as(Effect.logDebug("vedauth: could not refresh the token store lock", error.detail), true)
      )
    )
    return Effect.zipRight(Effect.sleep(every), beat).pipe(
      Effect.repeat({ while: (stillOurs) => stillOurs }),
      Effect.zipRight(
        Effect.logWarning(
          "vedauth: the token store lock was taken over while this process held it; writes stay safe by compare-and-set"
        )
      )
    )
  }

  const notOurs = storeError(
    "the token store lock was taken over while this process held it (it looked abandoned); " +
      "not writing, so as not to overwrite another process's grant"
  )

  const verifyHeld: Effect.Effect<void, TokenStoreError> = Effect.flatMap(FiberRef.get(held), (locks) => {
    const owner = locks.get(name)
    if (owner === undefined) return Effect.void
    return Effect.flatMap(
      bounded(backend.holds(owner)).pipe(Effect.orElseSucceed(() => false)),
      (ours) => (ours ? Effect.void : Effect.fail(notOurs))
    )
  })

  const withLock = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | TokenStoreError, R> =>
    Effect.flatMap(FiberRef.get(held), (locks) =>
      locks.has(name)
        ? effect
        : semaphore.withPermits(1)(
          Effect.acquireUseRelease(
            ScopeNs.make(),
            (scope) =>
              Effect.gen(function*() {
                const owner = yield* newOwner
                const handle = yield* acquire(owner, scope)
                // Interruptible whatever the caller's region: a fork inherits it, and under a finalizer
                // (a cleanup's write) closing the scope would wait forever for an uninterruptible beat.
                yield* Effect.forkIn(Effect.interruptible(heartbeat(owner, handle)), scope)
                return yield* Effect.locally(effect, held, new Map([...locks, [name, owner]]))
              }),
            (scope, exit) => ScopeNs.close(scope, exit)
          )
        ))

  return { withLock, verifyHeld }
}

/**
 * One lease lock per name, made on first use: what a store with a lock per key (Redis) needs.
 *
 * @since 0.3.0
 * @category constructors
 */
export const keyed = <H>(backendFor: (name: string) => Backend<H>, options: Options) => {
  const locks = new Map<string, LeaseLock>()
  return (name: string): LeaseLock => {
    let lock = locks.get(name)
    if (lock === undefined) {
      lock = make(backendFor(name), options)
      locks.set(name, lock)
    }
    return lock
  }
}
