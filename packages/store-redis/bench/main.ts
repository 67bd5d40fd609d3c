/**
 * `pnpm bench:replicas`: figures for docs/scale-out.md. Starts Debian's redis-server and the simulator
 * on loopback, then prints (1) the cost of `accessToken` served from a replica's memory against a bare
 * `Ref.get`, and of a store read from memory against a Redis round trip; (2) refreshes, authorizes and
 * wall time when N replica processes (100 callers each) reach the refresh point together.
 * Figures, not assertions.
 */
import { Grant, type TokenStore } from "@vedauth/core"
import { redisServer } from "@vedauth/test-helpers/redisServer"
import { Simulator } from "@vedauth/testing"
import { DateTime, Effect, Option, Ref } from "effect"
import { Redis } from "ioredis"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { startReplica } from "../test/fixtures/replicas.js"
import { replicaEnv, replicaHere } from "../test/fixtures/stack.js"

const replicaBundle = join(dirname(fileURLToPath(import.meta.url)), "replica.mjs")

const perOp = (n: number, run: () => Promise<void> | void) =>
  Effect.promise(async () => {
    const start = performance.now()
    await run()
    return ((performance.now() - start) * 1e6) / n
  })

const program = Effect.gen(function*() {
  const redis = yield* redisServer({ appendOnly: true })
  const served = yield* Simulator.serve({ protocol: "http" })
  const env = replicaEnv(served.url, redis.port, "bench:")
  const { store, vedAuth } = yield* replicaHere(env)
  const key: TokenStore.Key = {
    server: env.VEDAUTH_URL!,
    clientId: env.VEDAUTH_CLIENT_ID!,
    scope: env.VEDAUTH_SCOPE!,
    user: env.VEDAUTH_USERNAME!
  }
  yield* vedAuth.accessToken

  const n = 200_000
  const ref = yield* Ref.make(Option.some(1))
  const refGet = yield* perOp(n, () => Effect.runPromise(Effect.repeatN(Ref.get(ref), n - 1)).then(() => {}))
  const fromMemory = yield* perOp(n, () => Effect.runPromise(Effect.repeatN(vedAuth.accessToken, n - 1)).then(() => {}))
  const reads = 20_000
  const storeRead = yield* perOp(
    reads,
    () => Effect.runPromise(Effect.repeatN(store.read(key), reads - 1)).then(() => {})
  )
  const raw = new Redis({ host: "127.0.0.1", port: redis.port })
  const roundTrip = yield* perOp(2_000, async () => {
    for (let i = 0; i < 2_000; i++) await raw.hmget("bench:none", "v", "g")
  })
  raw.disconnect()
  console.log("hot path (ns per call, in one process):")
  console.log(`  Ref.get                               ${refGet.toFixed(0)}`)
  console.log(
    `  VedAuth.accessToken (fresh, memory)   ${fromMemory.toFixed(0)}  (${(fromMemory / refGet).toFixed(1)}x Ref.get)`
  )
  console.log(`  RedisTokenStore.read (known record)   ${storeRead.toFixed(0)}`)
  console.log(`  one Redis round trip (HMGET, ioredis) ${roundTrip.toFixed(0)}`)

  console.log("N replica processes x 100 callers at the refresh point:")
  for (const replicas of [1, 2, 4, 8]) {
    const record = Option.getOrThrow(yield* store.read(key))
    const due = new Grant.Grant({ ...record.grant, expiresAt: DateTime.subtract(yield* DateTime.now, { seconds: 1 }) })
    yield* store.compareAndSet(key, Option.some(record.version), Option.some(due))
    yield* served.simulator.resetStats
    const started = Array.from(
      { length: replicas },
      () => startReplica(replicaBundle, { ...env, REPLICA_CALLERS: "100" })
    )
    yield* Effect.promise(() => Promise.all(started.map((replica) => replica.ready)))
    const start = performance.now()
    for (const replica of started) replica.go()
    const results = yield* Effect.promise(() => Promise.all(started.map((replica) => replica.done)))
    const wall = performance.now() - start
    const stats = yield* served.simulator.stats
    const tokens = new Set(
      results.flatMap((result) => result.lines.flatMap((line) => (line.tokens as Array<string> | undefined) ?? []))
    )
    console.log(
      `  N=${replicas}: refreshes ${stats.refresh}, authorizes ${stats.authorizeIntegrated}, distinct tokens ${tokens.size}, ` +
        `failed ${results.filter((result) => result.code !== 0).length}, wall ${wall.toFixed(0)} ms`
    )
  }
})

Effect.runPromise(Effect.scoped(program)).then(() => process.exit(0), (error) => {
  console.error(error)
  process.exit(1)
})
