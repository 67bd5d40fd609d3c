/**
 * The managed grant, put together from three parts with one job each:
 *
 * - `managedGrant/cycler.ts`: this process's copy and the hot path (a `Ref` read and a clock
 *   read), the store re-checked now and then, one renewal in flight however many fibers ask;
 * - `managedGrant/storeProtocol.ts`: the shared record, by compare-and-set (spend the refresh
 *   token, store the new pair, decide under the lock what a renewal takes);
 * - `managedGrant/deviceCoordination.ts`: one device authorization for everyone sharing the key.
 *
 * This file holds what ties them: a renewal under the store's lock, and what happens when it needs
 * an authorize whose secret this process does not hold (a replica with no password): it asks for
 * the secret outside the lock, and failing that waits for the peer that renews, within a bound.
 *
 * @internal
 */
import { Clock, DateTime, Duration, Effect, Option, type Redacted, type Scope } from "effect"
import * as Grant from "../Grant.js"
import type * as NtlmTransport from "../NtlmTransport.js"
import type * as TokenStore from "../TokenStore.js"
import type { Options } from "../VedAuth.js"
import * as VedAuthError from "../VedAuthError.js"
import * as DeviceMarker from "./deviceMarker.js"
import type { DeviceSteps } from "./flows.js"
import { defaultRequestTimeout } from "./flows.js"
import * as Cycler from "./managedGrant/cycler.js"
import * as DeviceCoordination from "./managedGrant/deviceCoordination.js"
import * as Secret from "./managedGrant/secret.js"
import * as StoreProtocol from "./managedGrant/storeProtocol.js"

export { cacheCheckMillis } from "./managedGrant/cycler.js"
export { deviceWaitPollMillis } from "./managedGrant/deviceCoordination.js"

type Failure = VedAuthError.VedAuthError

/**
 * How long a process without the secret waits for a peer to renew a grant whose refresh token is
 * spent: the file lock's stale time (a crashed refresher's lock is taken over by then) plus one
 * authorize by whoever holds the secret.
 *
 * @internal
 */
export const peerWaitMillis = (options: Options): number =>
  30_000 + Duration.toMillis(Duration.decode(options.requestTimeout ?? defaultRequestTimeout))

/** How often a process that waits for a peer's renewal looks at the store. @internal */
export const peerPollMillis = 500

/** What the locked part answers when the authorize it needs takes a secret not at hand. */
class NeedsSecret {
  constructor(readonly need: StoreProtocol.AuthorizeNeed) {}
}

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
    windows: Effect.Effect<NtlmTransport.WindowsAccount, VedAuthError.AuthenticationFailed>
  ) => Effect.Effect<Grant.Grant, Failure>
  readonly refresh: (grant: Grant.Grant) => Effect.Effect<Grant.Grant, Failure>
  /** The device flow's two halves, when that is the layer's grant: the person approves outside the store's lock. */
  readonly device?: DeviceSteps | undefined
}

const noSecretError = (need: StoreProtocol.AuthorizeNeed) =>
  new VedAuthError.AuthenticationFailed({
    description: need.why === "ended"
      ? "the stored grant has ended and no password is configured to authorize again"
      : need.why === "none"
      ? "no grant is stored and no password is configured to authorize"
      : "the stored grant cannot be refreshed (its refresh token was spent or never given) and no password is configured to authorize again"
  })

/**
 * @internal
 */
export const make = (
  { authorize, device, key, layerScope, options, refresh, store, usesPassword }: ManagedGrantOptions
) =>
  Effect.gen(function*() {
    const memory = yield* Cycler.makeMemory(options.refreshWindow)
    const secret = yield* Secret.make(options, usesPassword)
    const protocol = StoreProtocol.make({ store, key, memory, refresh })
    const authorizeAndSave = (expected: Option.Option<TokenStore.Version>, preferOurs = false) =>
      Effect.flatMap(authorize(secret.credentials), (grant) => protocol.save(expected, grant, preferOurs))

    // Under the lock: authorize when the secret is at hand, else say so to the caller outside it.
    const authorizeIfAtHand = (need: StoreProtocol.AuthorizeNeed): Effect.Effect<Grant.Grant | NeedsSecret, Failure> =>
      Effect.flatMap(secret.atHand, (atHand): Effect.Effect<Grant.Grant | NeedsSecret, Failure> =>
        atHand ? authorizeAndSave(need.expected) : Effect.succeed(new NeedsSecret(need)))

    /**
     * Waits, on the Clock and without the lock, for a peer to store a fresh grant over a refresher's
     * mark (it holds the secret this process lacks, or its refresh is still on the wire); fails
     * with `failure` when none does within `peerWaitMillis` or the record shows no renewal under way.
     */
    const waitForPeer = (need: StoreProtocol.AuthorizeNeed, failure: Failure) =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        const bound = peerWaitMillis(options)
        const inFlight = need.why === "spent" && Option.exists(need.current, (grant) =>
          StoreProtocol.recentlySpent(grant, start, bound))
        if (!inFlight) {
          return yield* Effect.fail(failure)
        }
        yield* Effect.logInfo(
          "vedauth: the grant's refresh token is spent and this process has no secret to authorize; waiting for the process that renews it"
        )
        while ((yield* Clock.currentTimeMillis) - start < bound) {
          yield* Effect.sleep(Duration.millis(peerPollMillis))
          const record = yield* store.get(key)
          const now = yield* DateTime.now
          if (
            Option.isSome(record) && DeviceMarker.fromGrant(record.value) === undefined &&
            memory.stateAt(record.value, now) === "fresh"
          ) {
            return yield* memory.remember(record.value)
          }
        }
        return yield* Effect.fail(failure)
      })

    /**
     * A renewal (not the device grant's): under the store's lock, on what the store holds then. An
     * authorize whose secret is not at hand is not run under the lock: the secret is asked for
     * outside it and the renewal starts over; with no secret to be had, a peer's renewal is
     * waited for when one is under way, else the renewal fails.
     */
    const renewWithSecret = (rejected: Option.Option<Redacted.Redacted<string>>): Effect.Effect<Grant.Grant, Failure> =>
      Effect.gen(function*() {
        const first = yield* store.withLock(key, protocol.renewUnderLock<NeedsSecret>(rejected, authorizeIfAtHand))
        if (first instanceof Grant.Grant) {
          return first
        }
        if (!secret.configured) {
          return yield* waitForPeer(first.need, noSecretError(first.need))
        }
        const obtained = yield* Effect.either(secret.obtain)
        if (obtained._tag === "Left") {
          return yield* waitForPeer(first.need, obtained.left)
        }
        const second = yield* store.withLock(key, protocol.renewUnderLock<NeedsSecret>(rejected, authorizeIfAtHand))
        if (second instanceof Grant.Grant) {
          return second
        }
        return yield* new VedAuthError.AuthenticationFailed({ description: "the password could not be obtained" })
      })

    const coordination = device === undefined
      ? undefined
      : DeviceCoordination.make({ steps: device, store, key, scope: options.scope, memory, protocol })
    const renew: (rejected: Option.Option<Redacted.Redacted<string>>) => Effect.Effect<Grant.Grant, Failure> =
      coordination?.renew ?? renewWithSecret
    const cycler = yield* Cycler.make({ memory, store, key, layerScope, renew })

    return {
      /** The managed grant: from memory while fresh, else from the store, else renewed. */
      grant: cycler.grant,
      /** The layer's Windows credentials, the password asked for if need be (at most once). */
      credentials: secret.credentials,
      /** Authorizes now and makes the new grant the managed one; the password first, never under the lock. */
      login: coordination?.login ?? Effect.zipRight(
        secret.obtain,
        store.withLock(
          key,
          Effect.flatMap(store.read(key), (stored) =>
            authorizeAndSave(protocol.versionOf(stored), true))
        )
      ),
      /** A resource server refused this access token: forget it, and renew through the one flight. */
      renewRejected: (token: Redacted.Redacted<string>) =>
        Effect.zipRight(memory.forget, cycler.renewOnce(Option.some(token))),
      /** The explicit refresh of a grant the caller holds; stored (and managed) when it was the stored one. */
      refresh: protocol.refreshHeld,
      /** A token was revoked: if it was the managed grant's, drop it from the store and from memory. */
      revoked: protocol.revoked
    }
  })

/** @internal */
export type ManagedGrant = Effect.Effect.Success<ReturnType<typeof make>>
