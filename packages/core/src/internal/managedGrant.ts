/**
 * The managed grant: the one place that holds the layer's state. It keeps the last grant seen (one
 * `Ref`), hands it out while fresh, looks at the store again now and then (another process may have
 * rotated it), renews it ahead of expiry through one flight however many fibers ask, re-authorizes
 * when the grant has ended or its refresh token is spent, and asks for the password at most once.
 * Read from `make` down: the hot path, the slow path, the renewal under the store's lock.
 */
import { Cause, Clock, DateTime, Deferred, Duration, Effect, Exit, Option, Redacted, Ref, type Scope } from "effect"
import * as Grant from "../Grant.js"
import * as NtlmTransport from "../NtlmTransport.js"
import type * as TokenStore from "../TokenStore.js"
import type { Options } from "../VedAuth.js"
import * as VedAuthError from "../VedAuthError.js"
import * as DeviceMarker from "./deviceMarker.js"
import type { DeviceStarted, DeviceSteps } from "./flows.js"
import { freshness, type Freshness, freshUntilMillis } from "./freshness.js"
import { passwordFree } from "./kerberosTicket.js"

/**
 * How long a cached grant is handed out before the store is looked at again (to see a rotation by
 * another process): short enough that a dead token is noticed promptly, long enough that the hot
 * path is a Ref read and a clock read.
 *
 * @internal
 */
export const cacheCheckMillis = 5_000

/**
 * How often a managed grant that waits for another's device authorization looks at the store: a
 * read of a small record, and the person's approval takes seconds at best.
 *
 * @internal
 */
export const deviceWaitPollMillis = 1_000

interface Cached {
  readonly grant: Grant.Grant
  /** Clock millis when the grant was last seen to match the store (or put there). */
  readonly checkedAt: number
  /** Clock millis until which the grant is fresh (see `freshUntilMillis`). */
  readonly freshUntil: number
  /** The store failed to save it: the store's copy is older, or missing. */
  readonly unsaved: boolean
}

type Failure = VedAuthError.VedAuthError
type Flight = Deferred.Deferred<Grant.Grant, Failure>

// What `renewLocked` answers when an authorize needs a password that is not at hand.
const needsPassword = Symbol("vedauth/needsPassword")
type NeedsPassword = typeof needsPassword

/**
 * What the locked part of a device renewal decided, for the caller to carry out outside the lock:
 * ask the person (this process started the attempt and marked the store), wait for the attempt
 * another one marked, or look again (the record moved under the marker's compare-and-set).
 */
type DeviceStep =
  | { readonly _tag: "Approve"; readonly started: DeviceStarted; readonly id: string; readonly version: TokenStore.Version }
  | { readonly _tag: "Wait"; readonly marker: DeviceMarker.Marker; readonly version: TokenStore.Version }
  | { readonly _tag: "Moved" }

const sameToken = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>): boolean => Redacted.value(a) === Redacted.value(b)

/**
 * What the managed grant is made of: where grants are kept and under which key, and the two ways
 * to get a new one (given the Windows credentials, and given a grant to refresh).
 *
 * @internal
 */
export interface ManagedGrantOptions {
  readonly options: Options
  readonly store: TokenStore.Service
  readonly key: TokenStore.Key
  /** Renewals run in it, so closing the layer interrupts them (and frees the store's lock). */
  readonly layerScope: Scope.Scope
  /** False for the grants that send no password (certificate, JWT, device): none is asked for. */
  readonly usesPassword: boolean
  /** Authorizes with the layer's grant; runs `windows` only when the grant sends the Windows credentials. */
  readonly authorize: (
    windows: Effect.Effect<NtlmTransport.Credentials, VedAuthError.AuthenticationFailed>
  ) => Effect.Effect<Grant.Grant, Failure>
  readonly refresh: (grant: Grant.Grant) => Effect.Effect<Grant.Grant, Failure>
  /** The device flow's two halves, when that is the layer's grant: the person approves outside the store's lock. */
  readonly device?: DeviceSteps | undefined
}

/**
 * @internal
 */
export const make = ({ authorize, device, key, layerScope, options, refresh, store, usesPassword }: ManagedGrantOptions) =>
  Effect.gen(function*() {
    // The last grant this process saw: the one Ref of the layer's grant, written only in this file.
    const cache = yield* Ref.make(Option.none<Cached>())
    // The renewal in progress, shared by every fiber that finds the grant stale (single flight).
    const inflight = yield* Ref.make(Option.none<Flight>())
    // A password given as an effect (a prompt, a vault look-up), once it succeeded.
    const askedPassword = yield* Ref.make(Option.none<Redacted.Redacted<string>>())
    const askOnce = yield* Effect.makeSemaphore(1)

    const stateAt = (grant: Grant.Grant, now: DateTime.Utc): Freshness => freshness(grant, now, options.refreshWindow)

    // --- the password -------------------------------------------------------------------------

    const given = usesPassword ? options.password : undefined
    /** The password (`None` when none is configured), asked for at most once per layer once it succeeds. */
    const password: Effect.Effect<Option.Option<Redacted.Redacted<string>>, VedAuthError.AuthenticationFailed> =
      given === undefined || Redacted.isRedacted(given)
        ? Effect.succeed(Option.fromNullable(given))
        : askOnce.withPermits(1)(Effect.flatMap(Ref.get(askedPassword), (known) =>
          Option.isSome(known)
            ? Effect.succeed(known)
            : Effect.map(Effect.tap(given, (p) => Ref.set(askedPassword, Option.some(p))), Option.some)))
    /** True when an authorize can run without asking for the password. */
    const passwordAtHand = given === undefined || Redacted.isRedacted(given)
      ? Effect.succeed(true)
      : Effect.map(Ref.get(askedPassword), Option.isSome)

    const noCredentials = new VedAuthError.AuthenticationFailed({
      description: "no Windows credentials configured (username and password, e.g. VEDAUTH_USERNAME and VEDAUTH_PASSWORD)"
    })
    /** The Windows credentials of an authorize; the password is resolved (and so asked for) here. */
    const credentials = Effect.gen(function*() {
      // A keytab or credential cache authorizes with Kerberos alone: no password, and the cache may name the user.
      if (given === undefined && passwordFree(options)) return { ...NtlmTransport.parseUser(options.username ?? ""), password: Redacted.make("") }
      if (options.username === undefined || options.username === "" || given === undefined) return yield* noCredentials
      const resolved = yield* password
      // An empty password (an empty VEDAUTH_PASSWORD, a prompt answered with Enter) is no password: never sent.
      if (Option.isNone(resolved) || Redacted.value(resolved.value) === "") return yield* noCredentials
      return { ...NtlmTransport.parseUser(options.username), password: resolved.value }
    })
    const authorizeNow = authorize(credentials)

    // --- the cache ----------------------------------------------------------------------------

    const rememberAs = (unsaved: boolean) => (grant: Grant.Grant) =>
      Effect.flatMap(Clock.currentTimeMillis, (checkedAt) =>
        Effect.as(
          Ref.set(cache, Option.some({ grant, checkedAt, unsaved, freshUntil: freshUntilMillis(grant, options.refreshWindow) })),
          grant
        ))
    const remember = rememberAs(false)
    /**
     * Writes `grant` over the record at `expected` by compare-and-set, never a blind `set`. On a
     * conflict someone else wrote meanwhile: their record wins while it is fresh (a refresh of ours
     * that came late must not undo a newer rotation), unless `preferOurs` (a login); otherwise ours
     * goes over the version they left. The new pair is in the store before anyone can use it: a
     * crash after the refresh loses nothing. If the store cannot take it, the old pair is already
     * spent at the server: keep the new one in memory so that this process goes on working, say
     * so, then fail.
     */
    const storeAndRemember = (
      expected: Option.Option<TokenStore.Version>,
      grant: Grant.Grant,
      preferOurs = false
    ): Effect.Effect<Grant.Grant, Failure> => {
      const attempt = (expected: Option.Option<TokenStore.Version>, left: number): Effect.Effect<Grant.Grant, Failure> =>
        Effect.flatMap(Effect.zip(store.compareAndSet(key, expected, Option.some(grant)), DateTime.now), ([result, now]) => {
          if (result._tag === "Written") return remember(grant)
          const theirs = result.current
          if (!preferOurs && Option.isSome(theirs) && stateAt(theirs.value.grant, now) === "fresh") {
            return Effect.zipRight(
              Effect.logInfo("vedauth: another process stored a newer grant meanwhile; using it"),
              remember(theirs.value.grant)
            )
          }
          const over = Option.map(theirs, (record) => record.version)
          return left > 0 ? attempt(over, left - 1) : rememberAs(true)(grant)
        })
      return attempt(expected, 3).pipe(
        Effect.tapError((error) =>
          Effect.zipRight(
            rememberAs(true)(grant),
            Effect.logWarning("vedauth: the new grant could not be saved; this process keeps it in memory only", error.message)
          )
        )
      )
    }
    /** Authorizes and writes the new grant over the record read at `expected`. */
    const authorizeAndStore = (expected: Option.Option<TokenStore.Version>, preferOurs = false) =>
      Effect.flatMap(authorizeNow, (grant) => storeAndRemember(expected, grant, preferOurs))
    const forget = Ref.set(cache, Option.none())
    const versionOf = (record: Option.Option<TokenStore.Versioned>) => Option.map(record, (r) => r.version)

    // The grant to renew from: the stored one, unless this process holds a newer one the store failed to save.
    const newest = (stored: Option.Option<Grant.Grant>, cached: Option.Option<Cached>): Option.Option<Grant.Grant> => {
      const unsaved = Option.filter(cached, (entry) => entry.unsaved)
      if (Option.isNone(unsaved)) return stored
      if (Option.isNone(stored)) return Option.some(unsaved.value.grant)
      return DateTime.greaterThan(unsaved.value.grant.issuedAt, stored.value.issuedAt) ? Option.some(unsaved.value.grant) : stored
    }
    const grantOf = (record: Option.Option<TokenStore.Versioned>) => Option.map(record, (r) => r.grant)

    // --- renewal under the store's lock -------------------------------------------------------

    /** What a refresh attempt came to: a new grant, or someone else's record to start over from. */
    type Spent =
      | { readonly _tag: "Refreshed"; readonly grant: Grant.Grant; readonly version: TokenStore.Version }
      | { readonly _tag: "Moved"; readonly current: Option.Option<TokenStore.Versioned> }

    /**
     * Sends the grant's refresh token, marked spent in the store first by compare-and-set over the
     * version read (`expected`): the stored copy loses its refresh token and its access token counts
     * as expired (the server may kill it with the rotation). So no process ever sends a refresh
     * token twice, even when the answer is lost or a lock expired under a paused holder: of two that
     * read the same version only one can write the mark, and the other gets `Moved` with the record
     * as it now stands. A store that cannot take the mark stops the refresh.
     */
    const spendRefreshToken = (grant: Grant.Grant, expected: Option.Option<TokenStore.Version>) =>
      Effect.gen(function*() {
        const now = yield* DateTime.now
        const spent = new Grant.Grant({
          ...grant,
          refreshToken: Option.none(),
          expiresAt: DateTime.min(grant.expiresAt, now)
        })
        const marked = yield* store.compareAndSet(key, expected, Option.some(spent))
        if (marked._tag === "Conflict") return { _tag: "Moved", current: marked.current } as Spent
        yield* remember(spent)
        const next = yield* refresh(grant)
        const version = Option.getOrElse(versionOf(marked.current), () => "")
        return { _tag: "Refreshed", grant: next, version } as Spent
      })

    // Whether renewing from this grant may take an authorize (and so the password).
    const mayAuthorize = (grant: Option.Option<Grant.Grant>, rejected: Option.Option<Redacted.Redacted<string>>, now: DateTime.Utc) => {
      if (Option.isNone(grant)) return true
      const state = stateAt(grant.value, now)
      const wasRejected = Option.exists(rejected, (token) => sameToken(token, grant.value.accessToken))
      return state === "ended" || ((state === "renew" || wasRejected) && !grant.value.canRefreshAt(now))
    }

    const authorizeIfPasswordAtHand = (expected: Option.Option<TokenStore.Version>) =>
      Effect.flatMap(
        passwordAtHand,
        (atHand): Effect.Effect<Grant.Grant | NeedsPassword, Failure> =>
          atHand ? authorizeAndStore(expected) : Effect.succeed(needsPassword)
      )

    // --- the device flow: the person approves outside the lock ----------------------------------

    /**
     * The locked part of a device authorize: wait for a live attempt someone else marked in the
     * store (unless `force`: a login starts its own), else start one (authorize/device, one quick
     * request) and mark the store with it by compare-and-set over the record read.
     */
    const deviceUnderLock = (steps: DeviceSteps, force: boolean): Effect.Effect<DeviceStep, Failure> =>
      Effect.gen(function*() {
        const record = yield* store.read(key)
        const pending = DeviceMarker.livePending(record, yield* Clock.currentTimeMillis)
        if (pending !== undefined && Option.isSome(record) && !force) return { _tag: "Wait", marker: pending, version: record.value.version } as const
        const started = yield* steps.start
        const id = DeviceMarker.newId()
        const marker = DeviceMarker.toGrant({ state: "pending", id, deadline: started.deadline }, options.scope, yield* Clock.currentTimeMillis)
        const marked = yield* store.compareAndSet(key, versionOf(record), Option.some(marker))
        if (marked._tag === "Conflict" || Option.isNone(marked.current)) return { _tag: "Moved" } as const
        return { _tag: "Approve", started, id, version: marked.current.value.version } as const
      })

    /**
     * The person's part, outside the lock; the grant goes over this attempt's marker by
     * compare-and-set. A denial or expiry is written over the marker for those who wait on it; any
     * other end (an error, an interruption) removes the marker so that they take over at once.
     */
    const approveDevice = (steps: DeviceSteps, step: Extract<DeviceStep, { _tag: "Approve" }>, preferOurs: boolean) =>
      steps.approve(step.started).pipe(
        Effect.onExit((exit) => {
          if (Exit.isSuccess(exit)) return Effect.void
          const outcome = Option.flatMap(Cause.failureOption(exit.cause), (error) => Option.fromNullable(DeviceMarker.outcomeOf(error)))
          return Clock.currentTimeMillis.pipe(
            Effect.flatMap((now) =>
              store.compareAndSet(
                key,
                Option.some(step.version),
                Option.map(outcome, (state) => DeviceMarker.toGrant({ state, id: step.id, deadline: step.started.deadline }, options.scope, now))
              )
            ),
            Effect.catchAll((error) => Effect.logWarning("vedauth: could not clear the device authorization's mark in the token store", error.message))
          )
        }),
        Effect.flatMap((grant) => storeAndRemember(Option.some(step.version), grant, preferOurs))
      )

    /**
     * Waits, on the Clock and without the lock, for the attempt someone else marked: its grant
     * (`Some`), its denial or expiry (the same error), or `None` to look again (the mark was
     * removed or replaced, or its device code expired: its process is gone).
     */
    const waitForDevice = (step: Extract<DeviceStep, { _tag: "Wait" }>): Effect.Effect<Option.Option<Grant.Grant>, Failure> =>
      Effect.gen(function*() {
        yield* Effect.logInfo("vedauth: another process is waiting for a person to approve a device authorization; waiting for its grant")
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
            return stateAt(record.value.grant, yield* DateTime.now) === "fresh" ? Option.some(yield* remember(record.value.grant)) : Option.none()
          }
          if (marker.id === step.marker.id && marker.state !== "pending") return yield* Effect.fail(DeviceMarker.outcomeError(marker.state))
          return Option.none()
        }
      })

    const deviceRounds = 8
    const tooManyRounds = new VedAuthError.TokenStoreError({ detail: "the device authorization in the token store kept changing hands" })

    /** The renewal of a device grant: the store's lock for the quick parts only. */
    const renewDevice = (steps: DeviceSteps, rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function*() {
        for (let round = 0; round < deviceRounds; round++) {
          const step = yield* store.withLock(key, renewLocked(rejected))
          if (step instanceof Grant.Grant) return step
          if (step === needsPassword || step._tag === "Moved") continue
          if (step._tag === "Approve") return yield* approveDevice(steps, step, false)
          const theirs = yield* waitForDevice(step)
          if (Option.isSome(theirs)) return theirs.value
        }
        return yield* tooManyRounds
      })

    /** `login` with the device grant: a new attempt, whatever the store holds, approved outside the lock. */
    const loginDevice = (steps: DeviceSteps) =>
      Effect.gen(function*() {
        for (let round = 0; round < deviceRounds; round++) {
          const step = yield* store.withLock(key, deviceUnderLock(steps, true))
          if (step._tag === "Approve") return yield* approveDevice(steps, step, true)
        }
        return yield* tooManyRounds
      })

    /** Where renewal needs a new authorize: under the lock, or (device) the lock's part of it. */
    const authorizeHere = (expected: Option.Option<TokenStore.Version>): Effect.Effect<Grant.Grant | NeedsPassword | DeviceStep, Failure> =>
      device === undefined ? authorizeIfPasswordAtHand(expected) : deviceUnderLock(device, false)

    /**
     * Runs under the store's lock: re-reads the store (another process may have renewed while we
     * waited), then refreshes, or re-authorizes when the grant has ended or its refresh token is
     * spent. `rejected` is an access token a resource server refused: never hand it out again.
     * An authorize whose password is not at hand is not run here: `NeedsPassword` sends the caller
     * to get it outside the lock and come back. Correctness never rests on the lock: every write is
     * a compare-and-set over the version read, and a record that moved is started over from
     * (`rounds` bounds how often).
     */
    const renewFrom = (
      stored: Option.Option<TokenStore.Versioned>,
      rejected: Option.Option<Redacted.Redacted<string>>,
      rounds: number
    ): Effect.Effect<Grant.Grant | NeedsPassword | DeviceStep, Failure> =>
      Effect.gen(function*() {
        const now = yield* DateTime.now
        const cached = yield* Ref.get(cache)
        const expected = versionOf(stored)
        const current = newest(grantOf(stored), cached)
        if (Option.isNone(current)) return yield* authorizeHere(expected)
        const grant = current.value
        const wasRejected = Option.exists(rejected, (token) => sameToken(token, grant.accessToken))
        const state = stateAt(grant, now)
        if (state === "fresh" && !wasRejected) {
          // Our unsaved grant stays marked unsaved; one from the store is remembered as seen there.
          return Option.exists(cached, (entry) => entry.grant === grant) ? grant : yield* remember(grant)
        }
        if (state === "ended" || !grant.canRefreshAt(now)) {
          // Say why an authorize is needed when none can run: the refresh token is gone (spent, by this
          // process or another, or never given) or the grant has ended.
          if (usesPassword && given === undefined && !passwordFree(options)) {
            return yield* new VedAuthError.AuthenticationFailed({
              description: state === "ended"
                ? "the stored grant has ended and no password is configured to authorize again"
                : "the stored grant cannot be refreshed (its refresh token was spent or never given) and no password is configured to authorize again"
            })
          }
          return yield* authorizeHere(expected)
        }
        const outcome = yield* spendRefreshToken(grant, expected).pipe(
          Effect.map((spent): Spent | "refused" => spent),
          Effect.catchTag("InvalidGrant", (error) =>
            Effect.as(Effect.logInfo("vedauth: the refresh token was refused", error.message), "refused" as const))
        )
        if (outcome === "refused") {
          // TPP's single-use refresh token is the fence: look at the shared record again before
          // authorizing, someone may have rotated it (then use theirs); otherwise authorize over it.
          const again = yield* store.read(key)
          const moved = Option.isSome(again) && Option.isSome(expected) && !Option.contains(expected, again.value.version) &&
            Option.isSome(again.value.grant.refreshToken)
          if (moved && rounds > 0) return yield* renewFrom(again, rejected, rounds - 1)
          yield* Effect.logInfo("vedauth: authorizing again")
          return yield* authorizeHere(versionOf(again))
        }
        if (outcome._tag === "Moved") {
          if (rounds > 0) return yield* renewFrom(outcome.current, rejected, rounds - 1)
          return yield* new VedAuthError.TokenStoreError({ detail: "the stored grant kept changing while renewing it" })
        }
        return yield* storeAndRemember(Option.some(outcome.version), outcome.grant)
      })
    const renewLocked = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.flatMap(store.read(key), (stored) => renewFrom(stored, rejected, 3))

    const renew = (rejected: Option.Option<Redacted.Redacted<string>>): Effect.Effect<Grant.Grant, Failure> =>
      device !== undefined ? renewDevice(device, rejected) : Effect.gen(function*() {
        // A look before the lock: when an authorize is likely, get the password now, not under the lock.
        if (mayAuthorize(newest(yield* store.get(key), yield* Ref.get(cache)), rejected, yield* DateTime.now)) {
          yield* password
        }
        const first = yield* store.withLock(key, renewLocked(rejected))
        if (first instanceof Grant.Grant) return first
        yield* password
        const second = yield* store.withLock(key, renewLocked(rejected))
        if (second instanceof Grant.Grant) return second
        return yield* new VedAuthError.AuthenticationFailed({ description: "the password could not be obtained" })
      })

    /**
     * One renewal for everyone: the first fiber to ask starts it, those that ask while it runs wait
     * for its outcome. Forked in the layer's scope: it finishes for the others if the first caller
     * is interrupted, and is interrupted itself (releasing the store's lock) when the layer closes.
     */
    const renewOnce = (rejected: Option.Option<Redacted.Redacted<string>>) =>
      Effect.gen(function*() {
        const mine: Flight = yield* Deferred.make<Grant.Grant, Failure>()
        const [running, leader] = yield* Ref.modify(
          inflight,
          (current): [readonly [Flight, boolean], Option.Option<Flight>] =>
            Option.isSome(current) ? [[current.value, false], current] : [[mine, true], Option.some(mine)]
        )
        if (leader) {
          yield* renew(rejected).pipe(
            Effect.onExit((exit) => Effect.zipRight(Ref.set(inflight, Option.none()), Deferred.done(running, exit))),
            Effect.forkIn(layerScope)
          )
        }
        return yield* Deferred.await(running)
      })

    // --- handing the grant out ----------------------------------------------------------------

    /**
     * Whether the cached grant is still the one to use, after `cacheCheckMillis`: another process
     * may have rotated the grant (the CLI's refresh, a replica after a 401), which kills our token.
     * `None` sends the caller to the store and a renewal.
     */
    const recheck = (cached: Cached, now: DateTime.Utc) =>
      store.get(key).pipe(
        Effect.flatMap((stored): Effect.Effect<Option.Option<Grant.Grant>> => {
          if (Option.isNone(stored)) return Effect.succeed(cached.unsaved ? Option.some(cached.grant) : Option.none())
          if (sameToken(stored.value.accessToken, cached.grant.accessToken) || !DateTime.greaterThanOrEqualTo(stored.value.issuedAt, cached.grant.issuedAt)) {
            // Still ours, or older than ours (ours failed to save): keep it, look again later.
            return Effect.as(Ref.set(cache, Option.some({ ...cached, checkedAt: now.epochMillis })), Option.some(cached.grant))
          }
          return stateAt(stored.value, now) === "fresh" ? Effect.map(remember(stored.value), Option.some) : Effect.succeedNone
        }),
        // A store that cannot be read right now does not make the cached token any worse.
        Effect.catchAll((error) =>
          Effect.as(Effect.logDebug("vedauth: could not re-read the token store", error.message), Option.some(cached.grant))
        )
      )

    // Everything past the in-memory cache: the store, and a renewal when the grant is stale.
    const grantSlow = (now: DateTime.Utc, cached: Option.Option<Cached>) =>
      Effect.gen(function*() {
        if (Option.isSome(cached) && stateAt(cached.value.grant, now) === "fresh") {
          const checked = yield* recheck(cached.value, now)
          if (Option.isSome(checked)) return checked.value
        }
        const stored = yield* store.get(key)
        if (Option.isSome(stored) && stateAt(stored.value, now) === "fresh") return yield* remember(stored.value)
        return yield* renewOnce(Option.none())
      }).pipe(Effect.withSpan("VedAuth.grant"))

    // The hot path is a Ref read and a clock read, with no span: a span captures a stack trace and
    // would cost more than the rest of the call. Spans start where I/O may happen.
    const grant: Effect.Effect<Grant.Grant, Failure> = Effect.flatMap(
      Effect.zip(Clock.currentTimeMillis, Ref.get(cache)),
      ([now, cached]) =>
        Option.isSome(cached) && now - cached.value.checkedAt < cacheCheckMillis && now < cached.value.freshUntil
          ? Effect.succeed(cached.value.grant)
          : grantSlow(DateTime.unsafeMake(now), cached)
    )

    return {
      /** The managed grant: from memory while fresh, else from the store, else renewed. */
      grant,
      /** The layer's Windows credentials, the password asked for if need be (at most once). */
      credentials,
      /** Authorizes now and makes the new grant the managed one; the password first, never under the lock. */
      login: device !== undefined ? loginDevice(device) : Effect.zipRight(
        password,
        store.withLock(key, Effect.flatMap(store.read(key), (stored) => authorizeAndStore(versionOf(stored), true)))
      ),
      /** A resource server refused this access token: forget it, and renew through the one flight. */
      renewRejected: (token: Redacted.Redacted<string>) => Effect.zipRight(forget, renewOnce(Option.some(token))),
      /** The explicit refresh of a grant the caller holds; stored (and managed) when it was the stored one. */
      refresh: (held: Grant.Grant) =>
        store.withLock(
          key,
          Effect.gen(function*() {
            const stored = yield* store.read(key)
            if (!Option.exists(stored, (record) => sameToken(record.grant.accessToken, held.accessToken))) return yield* refresh(held)
            const outcome = yield* spendRefreshToken(held, versionOf(stored))
            if (outcome._tag === "Refreshed") return yield* storeAndRemember(Option.some(outcome.version), outcome.grant)
            // Someone else marked or rotated it first: this refresh token is theirs to spend, not ours.
            return yield* new VedAuthError.InvalidGrant({
              description: "the grant was refreshed or replaced by another process meanwhile; its refresh token is no longer this caller's to spend"
            })
          })
        ),
      /** A token was revoked: if it was the managed grant's, drop it from the store and from memory. */
      revoked: (token: Redacted.Redacted<string>) =>
        Effect.flatMap(store.read(key), (stored) =>
          Option.isSome(stored) && sameToken(stored.value.grant.accessToken, token)
            ? Effect.zipRight(store.compareAndSet(key, Option.some(stored.value.version), Option.none()), forget)
            : Effect.void)
    }
  })

/** @internal */
export type ManagedGrant = Effect.Effect.Success<ReturnType<typeof make>>
