/**
 * The conformance suite of the `TokenStore` contract, for store authors: every store (memory, file,
 * a Redis store in its own package) runs the same cases against itself. The cases are plain effects
 * needing only a `TokenStore`, with no test framework in them, so they run under vitest, `deno test`
 * or `bun test` alike:
 *
 * ```ts
 * import { it } from "@effect/vitest"
 * import { TokenStoreConformance } from "@vedauth/core"
 *
 * for (const test of TokenStoreConformance.cases) {
 *   it.scoped(test.name, () => test.run.pipe(Effect.provide(myStoreLayer))) // a fresh, empty store per case
 * }
 * ```
 *
 * @since 0.2.0
 */
import type { Scope } from "effect"
import { Context, Data, DateTime, Deferred, Effect, Fiber, Option, Redacted, Ref } from "effect"
import { Grant } from "./Grant.js"
import * as TokenStore from "./TokenStore.js"
import type { TokenStoreError } from "./VedAuthError.js"

/**
 * A broken promise of the contract, saying which.
 *
 * @since 0.2.0
 * @category errors
 */
export class ConformanceFailure extends Data.TaggedError("ConformanceFailure")<{ readonly message: string }> {}

/**
 * One case: run it against a fresh, empty store.
 *
 * @since 0.2.0
 * @category models
 */
export interface Case {
  readonly name: string
  readonly run: Effect.Effect<void, ConformanceFailure | TokenStoreError, TokenStore.TokenStore>
}

/**
 * The key the cases store under.
 *
 * @since 0.2.0
 * @category fixtures
 */
export const sampleKey: TokenStore.Key = {
  server: "https://tpp.example.test",
  clientId: "app",
  scope: "certificate:manage",
  user: "CORP\\alice"
}

/**
 * A grant whose tokens end in `n` (`access-n==`, `refresh-n==`), for tests.
 *
 * @since 0.2.0
 * @category fixtures
 */
export const sampleGrant = (n: number): Grant =>
  new Grant({
    accessToken: Redacted.make(`access-${n}==`),
    refreshToken: Option.some(Redacted.make(`refresh-${n}==`)),
    tokenType: "Bearer",
    scope: "certificate:manage",
    identity: "local:{x}",
    issuedAt: DateTime.unsafeMake(0),
    expiresAt: DateTime.unsafeMake(3_600_000),
    refreshUntil: Option.some(DateTime.unsafeMake(86_400_000))
  })

const check = (ok: boolean, message: string) => (ok ? Effect.void : Effect.fail(new ConformanceFailure({ message })))
const tokenOf = (grant: Grant) => Redacted.value(grant.accessToken)
const accessOf = (record: Option.Option<TokenStore.Versioned>) =>
  Option.map(record, (r) => tokenOf(r.grant)).pipe(Option.getOrUndefined)
const store = TokenStore.TokenStore
const key = sampleKey

const expectTag = (result: TokenStore.WriteResult, tag: TokenStore.WriteResult["_tag"], what: string) =>
  check(result._tag === tag, `${what}: expected ${tag}, got ${result._tag}`)

const readVersion = (s: TokenStore.Service, k: TokenStore.Key) =>
  Effect.flatMap(s.read(k), (record) =>
    Option.match(record, {
      onNone: () => Effect.fail(new ConformanceFailure({ message: "a record just written reads back as missing" })),
      onSome: (r) => Effect.succeed(r)
    }))

/**
 * The cases, each against a fresh, empty store.
 *
 * @since 0.2.0
 * @category cases
 */
export const cases: ReadonlyArray<Case> = [
  {
    name: "an empty store: nothing to read, nothing listed",
    run: Effect.gen(function*() {
      const s = yield* store
      yield* check(Option.isNone(yield* s.read(key)), "read of a missing key is not None")
      yield* check(Option.isNone(yield* s.get(key)), "get of a missing key is not None")
      yield* check((yield* s.list).length === 0, "an empty store lists entries")
    })
  },
  {
    name: "set, read, get: the grant comes back whole, with a version",
    run: Effect.gen(function*() {
      const s = yield* store
      yield* s.set(key, sampleGrant(1))
      const record = yield* readVersion(s, key)
      yield* check(tokenOf(record.grant) === "access-1==", "the access token did not round-trip")
      yield* check(
        Option.map(record.grant.refreshToken, Redacted.value).pipe(Option.getOrUndefined) === "refresh-1==",
        "the refresh token did not round-trip"
      )
      yield* check(
        DateTime.Equivalence(record.grant.expiresAt, sampleGrant(1).expiresAt),
        "expiresAt did not round-trip"
      )
      yield* check(Option.isSome(record.grant.refreshUntil), "refreshUntil was lost")
      yield* check(typeof record.version === "string" && record.version.length > 0, "no version")
      yield* check(
        accessOf(Option.map(yield* s.get(key), (grant) => ({ grant, version: "" }))) === "access-1==",
        "get disagrees with read"
      )
    })
  },
  {
    name: "compareAndSet with no expected version writes only where there is no record",
    run: Effect.gen(function*() {
      const s = yield* store
      const first = yield* s.compareAndSet(key, Option.none(), Option.some(sampleGrant(1)))
      yield* expectTag(first, "Written", "create on an empty key")
      yield* check(accessOf(first.current) === "access-1==", "Written does not carry the record written")
      const second = yield* s.compareAndSet(key, Option.none(), Option.some(sampleGrant(2)))
      yield* expectTag(second, "Conflict", "create over an existing record")
      yield* check(accessOf(second.current) === "access-1==", "Conflict does not carry the current record")
      yield* check(accessOf(yield* s.read(key)) === "access-1==", "a conflicting write changed the record")
    })
  },
  {
    name: "compareAndSet writes over the version it read, and a stale version conflicts with the newer record",
    run: Effect.gen(function*() {
      const s = yield* store
      yield* s.set(key, sampleGrant(1))
      const read = yield* readVersion(s, key)
      const written = yield* s.compareAndSet(key, Option.some(read.version), Option.some(sampleGrant(2)))
      yield* expectTag(written, "Written", "write over the version read")
      const now = yield* readVersion(s, key)
      yield* check(now.version !== read.version, "a write did not change the version")
      yield* check(
        Option.getOrUndefined(Option.map(written.current, (r) => r.version)) === now.version,
        "Written carries another version than read gives"
      )
      const stale = yield* s.compareAndSet(key, Option.some(read.version), Option.some(sampleGrant(3)))
      yield* expectTag(stale, "Conflict", "write over a stale version")
      yield* check(accessOf(stale.current) === "access-2==", "Conflict does not carry the newer record")
      yield* check(accessOf(yield* s.read(key)) === "access-2==", "a stale write changed the record")
    })
  },
  {
    name: "of two writers racing from the same version, exactly one wins",
    run: Effect.gen(function*() {
      const s = yield* store
      yield* s.set(key, sampleGrant(1))
      const read = yield* readVersion(s, key)
      const results = yield* Effect.all(
        [2, 3].map((n) => s.compareAndSet(key, Option.some(read.version), Option.some(sampleGrant(n)))),
        { concurrency: "unbounded" }
      )
      const winners = results.filter((r) => r._tag === "Written")
      yield* check(winners.length === 1, `${winners.length} writers won a race from one version`)
      yield* check(
        accessOf(yield* s.read(key)) === accessOf(winners[0]!.current),
        "the stored record is not the winner's"
      )
    })
  },
  {
    name: "no update is lost: concurrent read-modify-write loops over compareAndSet count exactly",
    run: Effect.gen(function*() {
      const s = yield* store
      yield* s.set(key, sampleGrant(0))
      const increment = Effect.gen(function*() {
        for (;;) {
          const read = yield* readVersion(s, key)
          const n = Number(/access-(\d+)==/.exec(tokenOf(read.grant))?.[1])
          const result = yield* s.compareAndSet(key, Option.some(read.version), Option.some(sampleGrant(n + 1)))
          if (result._tag === "Written") return
        }
      })
      yield* Effect.all(Array.from({ length: 8 }, () => increment), { concurrency: "unbounded" })
      yield* check(
        accessOf(yield* s.read(key)) === "access-8==",
        `8 increments ended at ${accessOf(yield* s.read(key))}`
      )
    })
  },
  {
    name: "compareAndSet removes (next None) over its version; a writer holding the old version then conflicts",
    run: Effect.gen(function*() {
      const s = yield* store
      yield* s.set(key, sampleGrant(1))
      const read = yield* readVersion(s, key)
      const removed = yield* s.compareAndSet(key, Option.some(read.version), Option.none())
      yield* expectTag(removed, "Written", "remove over the version read")
      yield* check(Option.isNone(removed.current), "a removal reports a current record")
      yield* check(Option.isNone(yield* s.read(key)), "a removed record still reads")
      const late = yield* s.compareAndSet(key, Option.some(read.version), Option.some(sampleGrant(2)))
      yield* expectTag(late, "Conflict", "write over a removed record's version")
      yield* check(Option.isNone(late.current), "Conflict over a removed record carries a record")
    })
  },
  {
    name: "a version is never reused: removed and written again, the old version still conflicts (no ABA)",
    run: Effect.gen(function*() {
      const s = yield* store
      yield* s.set(key, sampleGrant(1))
      const first = yield* readVersion(s, key)
      yield* s.remove(key)
      yield* s.set(key, sampleGrant(2))
      const second = yield* readVersion(s, key)
      yield* check(
        second.version !== first.version,
        "a record written after a removal got the removed record's version"
      )
      yield* expectTag(
        yield* s.compareAndSet(key, Option.some(first.version), Option.some(sampleGrant(3))),
        "Conflict",
        "write over a reused version"
      )
    })
  },
  {
    name: "keys: server and user compare case-insensitively, client, scope and user separate records",
    run: Effect.gen(function*() {
      const s = yield* store
      yield* s.set(key, sampleGrant(1))
      yield* s.set({ ...key, scope: "ssh" }, sampleGrant(2))
      yield* s.set({ ...key, clientId: "other" }, sampleGrant(3))
      yield* s.set({ ...key, user: "CORP\\bob" }, sampleGrant(4))
      const same = { ...key, server: "HTTPS://TPP.example.test/", user: "corp\\ALICE" }
      yield* check(accessOf(yield* s.read(same)) === "access-1==", "the same key in other case is another record")
      yield* check(accessOf(yield* s.read({ ...key, scope: "ssh" })) === "access-2==", "scopes share a record")
      yield* s.remove({ ...key, scope: "ssh" })
      yield* check(accessOf(yield* s.read(key)) === "access-1==", "removing one key removed another")
    })
  },
  {
    name: "list: every stored key with its grant and the version read gives",
    run: Effect.gen(function*() {
      const s = yield* store
      const keys = [key, { ...key, scope: "ssh" }, { ...key, user: "CORP\\bob" }]
      yield* Effect.forEach(keys, (k, i) => s.set(k, sampleGrant(i)))
      yield* s.remove(keys[2]!)
      const listed = yield* s.list
      yield* check(listed.length === 2, `listed ${listed.length} entries, not 2`)
      for (const [i, k] of keys.slice(0, 2).entries()) {
        const entry = listed.find((e) => TokenStore.keyString(e.key) === TokenStore.keyString(k))
        if (entry === undefined) {
          return yield* new ConformanceFailure({ message: `key ${TokenStore.keyString(k)} not listed` })
        }
        yield* check(tokenOf(entry.grant) === `access-${i}==`, "a listed grant is not the stored one")
        yield* check(entry.version === (yield* readVersion(s, k)).version, "a listed version is not the one read gives")
      }
    })
  },
  {
    name: "withLock: holders of one key never overlap, and the store can be written under the lock",
    run: Effect.gen(function*() {
      const s = yield* store
      const inside = yield* Ref.make(0)
      const most = yield* Ref.make(0)
      const entered = yield* Deferred.make<void>()
      const hold = (n: number) =>
        s.withLock(
          key,
          Effect.gen(function*() {
            const count = yield* Ref.updateAndGet(inside, (c) => c + 1)
            yield* Ref.update(most, (m) => Math.max(m, count))
            yield* Deferred.succeed(entered, undefined)
            yield* Effect.yieldNow()
            yield* s.set(key, sampleGrant(n))
            yield* Ref.update(inside, (c) => c - 1)
          })
        )
      yield* Effect.all([hold(1), hold(2), hold(3)], { concurrency: "unbounded" })
      yield* check((yield* Ref.get(most)) === 1, `${yield* Ref.get(most)} holders were inside the lock at once`)
      yield* check(Option.isSome(yield* s.read(key)), "a write under the lock was lost")
    })
  }
]

/**
 * Other instances of the store under test on the same medium (the same file, the same Redis
 * database and prefix): what another process or replica would open. `abandon` leaves the key's
 * lock as a crashed holder would (a lock file of a process that is gone; a Redis lock key without
 * an expiry), where the medium can hold one.
 *
 * @since 0.3.0
 * @category models
 */
export class Peers extends Context.Tag("@vedauth/core/TokenStoreConformance/Peers")<Peers, {
  readonly open: Effect.Effect<TokenStore.Service, TokenStoreError, Scope.Scope>
  readonly abandon?: ((key: TokenStore.Key) => Effect.Effect<void>) | undefined
}>() {}

/**
 * A lock case: run it against a fresh store and its `Peers`.
 *
 * @since 0.3.0
 * @category models
 */
export interface LockCase {
  readonly name: string
  readonly run: Effect.Effect<void, ConformanceFailure | TokenStoreError, TokenStore.TokenStore | Peers | Scope.Scope>
}

/**
 * The lock's cases, for stores shared by processes: they run with real time (a persistent store's
 * lock polls its medium), each against a fresh store, its peers, and a short stale time.
 *
 * @since 0.3.0
 * @category cases
 */
export const lockCases: ReadonlyArray<LockCase> = [
  {
    name: "lock: two instances on one medium (two processes) never hold one key's lock at once",
    run: Effect.gen(function*() {
      const one = yield* store
      const two = yield* (yield* Peers).open
      const inside = yield* Ref.make(0)
      const most = yield* Ref.make(0)
      const hold = (s: TokenStore.Service, n: number) =>
        s.withLock(
          key,
          Effect.gen(function*() {
            const count = yield* Ref.updateAndGet(inside, (c) => c + 1)
            yield* Ref.update(most, (m) => Math.max(m, count))
            yield* Effect.sleep("20 millis")
            const before = yield* s.read(key)
            yield* s.compareAndSet(key, Option.map(before, (r) => r.version), Option.some(sampleGrant(n)))
            yield* Ref.update(inside, (c) => c - 1)
          })
        )
      yield* Effect.all([hold(one, 1), hold(two, 2), hold(one, 3), hold(two, 4)], { concurrency: "unbounded" })
      yield* check(
        (yield* Ref.get(most)) === 1,
        `${yield* Ref.get(most)} holders from two instances were inside the lock at once`
      )
    })
  },
  {
    name: "lock: a waiter interrupted while it waits takes nothing; the holder's release frees the lock for the next",
    run: Effect.gen(function*() {
      const one = yield* store
      const two = yield* (yield* Peers).open
      const entered = yield* Deferred.make<void>()
      const leave = yield* Deferred.make<void>()
      const holder = yield* Effect.fork(
        one.withLock(key, Effect.zipRight(Deferred.succeed(entered, undefined), Deferred.await(leave)))
      )
      yield* Deferred.await(entered)
      const waiter = yield* Effect.fork(two.withLock(key, Effect.void))
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(waiter)
      yield* Deferred.succeed(leave, undefined)
      yield* Fiber.join(holder)
      const next = yield* two.withLock(key, Effect.succeed("taken")).pipe(Effect.timeout("10 seconds"), Effect.option)
      yield* check(
        Option.isSome(next),
        "the lock was not free after its holder released it and a waiter was interrupted"
      )
    })
  },
  {
    name: "lock: a lock left by a crashed holder (no expiry, no heartbeat) is taken over after the stale time",
    run: Effect.gen(function*() {
      const peers = yield* Peers
      if (peers.abandon === undefined) return
      yield* peers.abandon(key)
      const taken = yield* (yield* store).withLock(key, Effect.succeed("taken")).pipe(
        Effect.timeout("20 seconds"),
        Effect.option
      )
      yield* check(Option.isSome(taken), "a crashed holder's lock was never taken over")
    })
  }
]
