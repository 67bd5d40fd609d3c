import { assert, describe, it } from "@effect/vitest"
import { Grant, TokenStore } from "@vedauth/core"
import { redisServer } from "@vedauth/test-helpers/redisServer"
import { Simulator } from "@vedauth/testing"
import { DateTime, Duration, Effect, Option, Redacted, Schedule } from "effect"
import { createHash } from "node:crypto"
import { bundleReplica, replicaScoped } from "./fixtures/replicas.js"
import { replicaEnv, replicaHere } from "./fixtures/stack.js"

// `count` replica processes with `callers` callers each, started together once all are ready; each must exit 0.
const runReplicas = (bundle: string, env: Readonly<Record<string, string>>, count: number, callers: number) =>
  Effect.gen(function*() {
    const replicas = yield* Effect.all(
      Array.from({ length: count }, () => replicaScoped(bundle, { ...env, REPLICA_CALLERS: String(callers) }))
    )
    yield* Effect.promise(() => Promise.all(replicas.map((replica) => replica.ready)))
    for (const replica of replicas) replica.go()
    const results = yield* Effect.promise(() => Promise.all(replicas.map((replica) => replica.done)))
    for (const result of results) assert.strictEqual(result.code, 0, JSON.stringify(result.lines))
    return results
  })

/** A simulator on loopback, a real redis-server, and the environment every replica gets. */
const setup = Effect.gen(function*() {
  const redis = yield* redisServer({ appendOnly: true })
  const served = yield* Simulator.serve({ protocol: "http" })
  const env = replicaEnv(served.url, redis.port, "replicas:")
  const bundle = yield* bundleReplica(redis.dir)
  // This process plays the first replica: it authorizes once and stores the grant.
  const { store, vedAuth } = yield* replicaHere(env)
  return { redis, served, env, bundle, vedAuth, store }
})

const key = (env: Record<string, string>): TokenStore.Key => ({
  server: env.VEDAUTH_URL!,
  clientId: env.VEDAUTH_CLIENT_ID!,
  scope: env.VEDAUTH_SCOPE!,
  user: env.VEDAUTH_USERNAME!
})

/** Puts the stored grant at its refresh point: its access token expired, its refresh token good. */
const atRefreshPoint = (store: TokenStore.Service, k: TokenStore.Key) =>
  Effect.gen(function*() {
    const record = Option.getOrThrow(yield* store.read(k))
    const now = yield* DateTime.now
    const due = new Grant.Grant({ ...record.grant, expiresAt: DateTime.subtract(now, { seconds: 1 }) })
    const written = yield* store.compareAndSet(k, Option.some(record.version), Option.some(due))
    assert.strictEqual(written._tag, "Written")
  })

describe("replicas as separate OS processes sharing one grant in Redis", () => {
  it.scopedLive("4 processes x 250 callers at the refresh point: exactly 1 refresh, 0 authorizes, one token", () =>
    Effect.gen(function*() {
      const { bundle, env, served, store, vedAuth } = yield* setup
      yield* vedAuth.accessToken
      yield* atRefreshPoint(store, key(env))
      yield* served.simulator.resetStats
      const results = yield* runReplicas(bundle, env, 4, 250)
      const stats = yield* served.simulator.stats
      assert.strictEqual(stats.refresh, 1)
      assert.strictEqual(stats.authorizeIntegrated, 0)
      const tokens = new Set(
        results.flatMap((result) => result.lines.flatMap((line) => (line.tokens as Array<string> | undefined) ?? []))
      )
      assert.strictEqual(tokens.size, 1)
      assert.strictEqual(
        results.reduce((sum, result) => sum + Number(result.lines.find((line) => "callers" in line)?.callers ?? 0), 0),
        1000
      )
    }))

  /**
   * The refresher A is stopped (SIGSTOP) or killed (SIGKILL) after it marked the refresh token spent
   * and sent it (the simulator holds the answer back), and stays away past its lock's expiry. B then
   * takes the lock, finds the mark and authorizes. A stopped A that comes back gets its answer, but
   * its compare-and-set is refused: B's newer grant survives and A uses it.
   */
  const refresherLost = (signal: "SIGSTOP" | "SIGKILL") =>
    Effect.gen(function*() {
      const { bundle, env, redis, served, store, vedAuth } = yield* setup
      const k = key(env)
      yield* vedAuth.accessToken
      yield* atRefreshPoint(store, k)
      yield* served.simulator.resetStats
      const short = { ...env, REPLICA_CALLERS: "1", REPLICA_LOCK_TTL_MS: "600" }
      const a = yield* replicaScoped(bundle, short)
      yield* Effect.promise(() => a.ready)
      yield* served.simulator.setFaults({ delay: Duration.seconds(2) })
      a.go()
      // A has written the mark (no refresh token in the store) and its refresh is on the wire.
      const marked = store.read(k).pipe(
        Effect.map((record) => Option.exists(record, (r) => Option.isNone(r.grant.refreshToken)))
      )
      yield* marked.pipe(Effect.repeat({ until: (done) => done, schedule: Schedule.spaced(Duration.millis(10)) }))
      a.child.kill(signal)
      yield* served.simulator.setFaults({})
      const lockKey = `${env.VEDAUTH_STORE_PREFIX}lock:${TokenStore.keyString(k)}`
      yield* Effect.sync(() => redis.cli("EXISTS", lockKey)).pipe(
        Effect.repeat({ until: (exists) => exists === "0", schedule: Schedule.spaced(Duration.millis(50)) })
      )
      const b = yield* replicaScoped(bundle, short)
      yield* Effect.promise(() => b.ready)
      b.go()
      const fromB = yield* Effect.promise(() => b.done)
      assert.strictEqual(fromB.code, 0, JSON.stringify(fromB.lines))
      const tokenOfB = (fromB.lines.find((line) => "tokens" in line)?.tokens as Array<string>)[0]
      if (signal === "SIGSTOP") a.child.kill("SIGCONT")
      const fromA = yield* Effect.promise(() => a.done)
      const stored = Option.getOrThrow(yield* store.read(k))
      const storedHash = createHash("sha256").update(Redacted.value(stored.grant.accessToken)).digest("hex")
      const stats = yield* served.simulator.stats
      assert.strictEqual(storedHash, tokenOfB, "B's grant is the stored one")
      assert.strictEqual(stats.authorizeIntegrated, 1, "B authorized once, on finding the mark")
      assert.isAtMost(stats.refresh, 1, "the refresh token was sent once at most")
      if (signal === "SIGSTOP") {
        assert.strictEqual(fromA.code, 0, JSON.stringify(fromA.lines))
        assert.strictEqual(stats.refresh, 1)
        assert.deepStrictEqual(
          fromA.lines.find((line) => "tokens" in line)?.tokens,
          [tokenOfB],
          "A's late write was refused; A uses B's grant"
        )
      } else {
        assert.strictEqual(fromA.signal, "SIGKILL")
      }
    })

  it.scopedLive("the refresher paused (SIGSTOP) past its lock's expiry: its late write is refused, the newer grant survives", () =>
    refresherLost("SIGSTOP"))

  it.scopedLive("the refresher killed (kill -9) mid-refresh: another takes over after the lock expires, authorizing once", () =>
    refresherLost("SIGKILL"))

  it.scopedLive("Redis restarted mid-run (AOF on): typed errors while it is down, recovery after, nothing lost", () =>
    Effect.gen(function*() {
      const { bundle, env, redis, served, store, vedAuth } = yield* setup
      const k = key(env)
      const token = yield* vedAuth.accessToken
      const before = Option.getOrThrow(yield* store.read(k))
      yield* redis.stop
      // Down: the store fails with a typed error (within its timeout), the fresh token is still served from memory.
      const down = yield* Effect.flip(store.compareAndSet(k, Option.some(before.version), Option.some(before.grant)))
      assert.strictEqual(down._tag, "TokenStoreError")
      assert.strictEqual(Redacted.value(yield* vedAuth.accessToken), Redacted.value(token))
      yield* redis.start
      // Back: the connection and the subscription come back by themselves, the record as it was.
      const after = yield* store.read(k).pipe(
        Effect.retry({ schedule: Schedule.spaced(Duration.millis(100)), times: 100 })
      )
      assert.isTrue(Option.exists(after, (record) => record.version === before.version))
      assert.strictEqual(Redacted.value(Option.getOrThrow(after).grant.accessToken), Redacted.value(token))
      // And the replicas go on sharing it: one refresh, no authorize.
      yield* atRefreshPoint(store, k)
      yield* served.simulator.resetStats
      yield* runReplicas(bundle, env, 2, 50)
      const stats = yield* served.simulator.stats
      assert.strictEqual(stats.refresh, 1)
      assert.strictEqual(stats.authorizeIntegrated, 0)
    }))
})
