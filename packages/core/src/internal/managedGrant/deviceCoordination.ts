/**
 * The device grant shared through the store: the person approves outside the store's lock, and
 * every other managed grant on the same key (other layers, processes, machines) waits for that one
 * attempt instead of asking a second person. The store's lock covers only the quick parts: reading
 * the record, starting the attempt (authorize/device), and marking the store with it.
 *
 * @internal
 */
import { Cause, Clock, DateTime, Duration, Effect, Exit, Option, type Redacted } from "effect"
import * as Grant from "../../Grant.js"
import type * as TokenStore from "../../TokenStore.js"
import * as VedAuthError from "../../VedAuthError.js"
import * as DeviceMarker from "../deviceMarker.js"
import type { DeviceStarted, DeviceSteps } from "../flows.js"
import type { Memory } from "./cycler.js"
import type { Protocol } from "./storeProtocol.js"

/**
 * How often a managed grant that waits for another's device authorization looks at the store: a
 * read of a small record, and the person's approval takes seconds at best.
 *
 * @internal
 */
export const deviceWaitPollMillis = 1_000

type Failure = VedAuthError.VedAuthError

/**
 * What the locked part of a device renewal decided, for the caller to carry out outside the lock:
 * ask the person (this process started the attempt and marked the store), wait for the attempt
 * another one marked, or look again (the record moved under the marker's compare-and-set).
 */
type DeviceStep =
  | {
    readonly _tag: "Approve"
    readonly started: DeviceStarted
    readonly id: string
    readonly version: TokenStore.Version
  }
  | { readonly _tag: "Wait"; readonly marker: DeviceMarker.Marker; readonly version: TokenStore.Version }
  | { readonly _tag: "Moved" }

const deviceRounds = 8
const tooManyRounds = new VedAuthError.TokenStoreError({
  detail: "the device authorization in the token store kept changing hands"
})

/** @internal */
export interface DeviceOptions {
  readonly steps: DeviceSteps
  readonly store: TokenStore.Service
  readonly key: TokenStore.Key
  readonly scope: string
  readonly memory: Memory
  readonly protocol: Protocol
}

/** @internal */
export const make = ({ key, memory, protocol, scope, steps, store }: DeviceOptions) => {
  /**
   * The locked part of a device authorize: wait for a live attempt someone else marked in the
   * store (unless `force`: a login starts its own), else start one (authorize/device, one quick
   * request) and mark the store with it by compare-and-set over the record read.
   */
  const underLock = (force: boolean): Effect.Effect<DeviceStep, Failure> =>
    Effect.gen(function*() {
      const record = yield* store.read(key)
      const pending = DeviceMarker.livePending(record, yield* Clock.currentTimeMillis)
      if (pending !== undefined && Option.isSome(record) && !force) {
        return { _tag: "Wait", marker: pending, version: record.value.version } as const
      }
      const started = yield* steps.start
      const id = DeviceMarker.newId()
      const marker = DeviceMarker.toGrant(
        { state: "pending", id, deadline: started.deadline },
        scope,
        yield* Clock.currentTimeMillis
      )
      const marked = yield* store.compareAndSet(key, protocol.versionOf(record), Option.some(marker))
      if (marked._tag === "Conflict" || Option.isNone(marked.current)) {
        return { _tag: "Moved" } as const
      }
      return { _tag: "Approve", started, id, version: marked.current.value.version } as const
    })

  /**
   * The person's part, outside the lock; the grant goes over this attempt's marker by
   * compare-and-set. A denial or expiry is written over the marker for those who wait on it; any
   * other end (an error, an interruption) removes the marker so that they take over at once.
   */
  const approve = (step: Extract<DeviceStep, { _tag: "Approve" }>, preferOurs: boolean) =>
    steps.approve(step.started).pipe(
      Effect.onExit((exit) => {
        if (Exit.isSuccess(exit)) return Effect.void
        const outcome = Option.flatMap(
          Cause.failureOption(exit.cause),
          (error) => Option.fromNullable(DeviceMarker.outcomeOf(error))
        )
        return Clock.currentTimeMillis.pipe(
          Effect.flatMap((now) =>
            store.compareAndSet(
              key,
              Option.some(step.version),
              Option.map(outcome, (state) =>
                DeviceMarker.toGrant({ state, id: step.id, deadline: step.started.deadline }, scope, now))
            )
          ),
          Effect.catchAll((error) =>
            Effect.logWarning(
              "vedauth: could not clear the device authorization's mark in the token store",
              error.message
            )
          )
        )
      }),
      Effect.flatMap((grant) => protocol.save(Option.some(step.version), grant, preferOurs))
    )

  /**
   * Waits, on the Clock and without the lock, for the attempt someone else marked: its grant
   * (`Some`), its denial or expiry (the same error), or `None` to look again (the mark was
   * removed or replaced, or its device code expired: its process is gone).
   */
  const waitFor = (step: Extract<DeviceStep, { _tag: "Wait" }>): Effect.Effect<Option.Option<Grant.Grant>, Failure> =>
    Effect.gen(function*() {
      yield* Effect.logInfo(
        "vedauth: another process is waiting for a person to approve a device authorization; waiting for its grant"
      )
      while (true) {
        const now = yield* Clock.currentTimeMillis
        const staleAt = DeviceMarker.staleAt(step.marker)
        if (now >= staleAt) return Option.none()
        yield* Effect.sleep(Duration.millis(Math.min(deviceWaitPollMillis, staleAt - now)))
        const record = yield* store.read(key)
        if (Option.isSome(record) && record.value.version === step.version) continue
        if (Option.isNone(record)) return Option.none()
        const marker = DeviceMarker.fromGrant(record.value.grant)
        if (marker === undefined) {
          return memory.stateAt(record.value.grant, yield* DateTime.now) === "fresh"
            ? Option.some(yield* memory.remember(record.value.grant))
            : Option.none()
        }
        if (marker.id === step.marker.id && marker.state !== "pending") {
          return yield* Effect.fail(DeviceMarker.outcomeError(marker.state))
        }
        return Option.none()
      }
    })

  /** The renewal of a device grant: the store's lock for the quick parts only. */
  const renew = (rejected: Option.Option<Redacted.Redacted<string>>) =>
    Effect.gen(function*() {
      for (let round = 0; round < deviceRounds; round++) {
        const step = yield* store.withLock(key, protocol.renewUnderLock<DeviceStep>(rejected, () => underLock(false)))
        if (step instanceof Grant.Grant) return step
        if (step._tag === "Moved") continue
        if (step._tag === "Approve") return yield* approve(step, false)
        const theirs = yield* waitFor(step)
        if (Option.isSome(theirs)) return theirs.value
      }
      return yield* tooManyRounds
    })

  /** `login` with the device grant: a new attempt, whatever the store holds, approved outside the lock. */
  const login = Effect.gen(function*() {
    for (let round = 0; round < deviceRounds; round++) {
      const step = yield* store.withLock(key, underLock(true))
      if (step._tag === "Approve") return yield* approve(step, true)
    }
    return yield* tooManyRounds
  })

  return { renew, login }
}
