import { assert, describe, layer } from "@effect/vitest"
import { Grant, TokenStore, TokenStoreConformance } from "@vedauth/core"
import { type RedisServer, redisServer } from "@vedauth/test-helpers/redisServer"
import { Clock, ConfigProvider, Context, DateTime, Duration, Effect, Exit, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { RedisTokenStore } from "../src/index.js"

class Server extends Effect.Tag("test/RedisServer")<Server, RedisServer>() {}

let prefixes = 0
/** A fresh, empty store on the shared server: its own key prefix. */
const freshStore = (server: RedisServer, extra: Partial<RedisTokenStore.Options> = {}) =>
  RedisTokenStore.make({
    url: server.url,
    prefix: `t${++prefixes}-${randomBytes(4).toString("hex")}:`,
    ...(server.ca === undefined ? {} : { ca: server.ca }),
    ...extra
  })
const provideFresh = <A, E>(
  test: Effect.Effect<A, E, TokenStore.TokenStore>,
  extra: Partial<RedisTokenStore.Options> = {}
) =>
  Effect.flatMap(
    Server,
    (server) =>
      Effect.flatMap(freshStore(server, extra), (store) => Effect.provideService(test, TokenStore.TokenStore, store))
  )

const tokenOf = (record: Option.Option<TokenStore.Versioned>) =>
  Option.map(record, (r) => Redacted.value(r.grant.accessToken))
const key = TokenStoreConformance.sampleKey
const grant = TokenStoreConformance.sampleGrant

layer(Layer.scoped(Server, redisServer()), { excludeTestServices: true })("a plain redis-server on loopback", (it) => {
  for (const test of TokenStoreConformance.cases) {
    it.scoped(`conformance: ${test.name}`, () => provideFresh(test.run))
  }
  for (const test of TokenStoreConformance.cases) {
    it.scoped(`conformance, encrypted: ${test.name}`, () =>
      provideFresh(test.run, { encryptionKey: Redacted.make(randomBytes(32).toString("base64")) }))
  }
  // The lock's cases: two stores on one database and prefix are what two replicas hold.
  for (const test of TokenStoreConformance.lockCases) {
    it.scoped(`conformance: ${test.name}`, () =>
      Effect.gen(function*() {
        const server = yield* Server
        const options = { prefix: `lk${++prefixes}-${randomBytes(4).toString("hex")}:`, lockTtl: Duration.seconds(1) }
        const one = yield* freshStore(server, options)
        const peers = TokenStoreConformance.Peers.of({
          open: freshStore(server, options),
          // What a crashed holder of an older or foreign client leaves: a lock key without an expiry.
          abandon: (k) =>
            Effect.sync(() => void server.cli("SET", `${options.prefix}lock:${TokenStore.keyString(k)}`, "crashed:0"))
        })
        yield* test.run.pipe(
          Effect.provideService(TokenStore.TokenStore, one),
          Effect.provideService(TokenStoreConformance.Peers, peers)
        )
      }).pipe(Effect.withClock(Clock.make())))
  }

  it.scoped("encrypted records hold no token in Redis, and open only with their key", () =>
    Effect.gen(function*() {
      const server = yield* Server
      const secret = Redacted.make(randomBytes(32).toString("base64"))
      const prefix = `enc-${randomBytes(4).toString("hex")}:`
      const sealed = yield* RedisTokenStore.make({ url: server.url, prefix, encryptionKey: secret })
      yield* sealed.set(key, grant(7))
      const raw = server.cli("--scan", "--pattern", `${prefix}grant:*`)
      const stored = server.cli("HGET", raw, "g")
      assert.isTrue(stored.startsWith("enc1:"))
      assert.notInclude(stored, "access-7")
      assert.notInclude(stored, "refresh-7")
      const without = yield* RedisTokenStore.make({ url: server.url, prefix })
      assert.include((yield* Effect.flip(without.read(key))).message, "encrypted")
      const other = yield* RedisTokenStore.make({
        url: server.url,
        prefix,
        encryptionKey: Redacted.make(randomBytes(32).toString("base64"))
      })
      const refused = yield* Effect.flip(other.read(key))
      assert.include(refused.message, "does not open")
      assert.notInclude(refused.message, Redacted.value(secret))
      assert.deepStrictEqual(tokenOf(yield* sealed.read(key)), Option.some("access-7=="))
    }))

  it.scoped("a key that is not 32 bytes of base64 is refused with a message that does not echo it", () =>
    Effect.gen(function*() {
      const server = yield* Server
      const error = yield* Effect.flip(
        RedisTokenStore.make({ url: server.url, encryptionKey: Redacted.make("c2hvcnQ=") })
      )
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.include(error.message, "32 random bytes")
      assert.notInclude(error.message, "c2hvcnQ=")
    }))

  it.scoped("records expire at the grant's refresh_until", () =>
    Effect.gen(function*() {
      const server = yield* Server
      const prefix = `ttl-${randomBytes(4).toString("hex")}:`
      const store = yield* RedisTokenStore.make({ url: server.url, prefix })
      const now = Date.now()
      yield* store.set(
        key,
        new Grant.Grant({ ...grant(1), refreshUntil: Option.some(DateTime.unsafeMake(now + 3_600_000)) })
      )
      const later = server.cli("--scan", "--pattern", `${prefix}grant:*`)
      assert.strictEqual(Number(server.cli("PEXPIRETIME", later)), now + 3_600_000)
      yield* store.remove(key)
      yield* store.set(key, grant(1))
      const raw = server.cli("--scan", "--pattern", `${prefix}grant:*`)
      const expireAt = Number(server.cli("PEXPIRETIME", raw))
      // sampleGrant's refresh_until is long past: the record is kept for the minimum of a minute.
      assert.isAbove(expireAt, now + 50_000)
      assert.isBelow(expireAt, now + 70_000)
    }))

  it.scoped("a replica sees another's write through the notification, and serves reads from memory meanwhile", () =>
    Effect.gen(function*() {
      const server = yield* Server
      const prefix = `sub-${randomBytes(4).toString("hex")}:`
      const one = yield* RedisTokenStore.make({ url: server.url, prefix })
      const two = yield* RedisTokenStore.make({ url: server.url, prefix })
      yield* one.set(key, grant(1))
      assert.deepStrictEqual(tokenOf(yield* two.read(key)), Option.some("access-1=="))
      const reads = () => Number(/cmdstat_hmget:calls=(\d+)/.exec(server.cli("INFO", "commandstats"))?.[1] ?? 0)
      const before = reads()
      for (let i = 0; i < 100; i++) yield* two.read(key)
      // At most one: the first read may have raced the notification of the write it read.
      assert.isAtMost(reads() - before, 1, "no Redis round trip for a record known current")
      yield* one.set(key, grant(2))
      // The notification arrives on its own connection: wait for it, never for a fixed time.
      const seen = yield* two.read(key).pipe(
        Effect.repeat({ until: (record) => Option.contains(tokenOf(record), "access-2==") }),
        Effect.timeout(Duration.seconds(10))
      )
      assert.deepStrictEqual(tokenOf(seen), Option.some("access-2=="))
    }))

  it.scoped("under the lock a read goes to Redis: a write whose notification has not arrived is seen", () =>
    Effect.gen(function*() {
      const server = yield* Server
      const prefix = `late-${randomBytes(4).toString("hex")}:`
      const one = yield* RedisTokenStore.make({ url: server.url, prefix })
      const two = yield* RedisTokenStore.make({ url: server.url, prefix })
      yield* one.set(key, grant(1))
      // A newer record written behind the replica's back, with no notification: what a replica sees
      // when the lock is handed over before the writer's notification reaches it.
      const other = { ...key, user: "CORP\\other" }
      yield* one.set(other, grant(2))
      const reads = () => Number(/cmdstat_hmget:calls=(\d+)/.exec(server.cli("INFO", "commandstats"))?.[1] ?? 0)
      // Read until `two` serves the record from memory (a read may race a notification and not keep it).
      yield* Effect.suspend(() => {
        const before = reads()
        return Effect.map(two.read(key), () => reads() === before)
      }).pipe(Effect.repeat({ until: (fromMemory) => fromMemory, times: 50 }))
      const record = (k: TokenStore.Key) => `${prefix}grant:${TokenStore.keyString(k)}`
      server.cli("HSET", record(key), "v", "999999", "g", server.cli("HGET", record(other), "g"))
      assert.deepStrictEqual(tokenOf(yield* two.read(key)), Option.some("access-1=="), "outside the lock: from memory")
      const locked = yield* two.withLock(key, two.read(key))
      assert.deepStrictEqual(tokenOf(locked), Option.some("access-2=="))
      assert.deepStrictEqual(Option.map(locked, (r) => r.version), Option.some("999999"))
    }))

  it.scoped("a write under the lock from a finalizer (uninterruptible) ends: the lock's renewal stays interruptible", () =>
    Effect.gen(function*() {
      const server = yield* Server
      const store = yield* freshStore(server)
      yield* Effect.uninterruptible(store.withLock(key, store.set(key, grant(1))))
      assert.deepStrictEqual(tokenOf(yield* store.read(key)), Option.some("access-1=="))
    }))

  it.scoped("the lock: an owner token, renewed while held, freed only by its owner", () =>
    Effect.gen(function*() {
      const server = yield* Server
      const prefix = `lock-${randomBytes(4).toString("hex")}:`
      const lockTtl = Duration.millis(300)
      const one = yield* RedisTokenStore.make({ url: server.url, prefix, lockTtl })
      const lockName = () => server.cli("--scan", "--pattern", `${prefix}lock:*`)
      // Held for three lifetimes of the lock: renewal keeps it; nobody else got it meanwhile.
      const two = yield* RedisTokenStore.make({ url: server.url, prefix, lockTtl, lockTimeout: Duration.millis(200) })
      const held = yield* one.withLock(
        key,
        Effect.gen(function*() {
          const owner = server.cli("GET", lockName())
          yield* Effect.sleep(Duration.millis(900))
          const waiter = yield* Effect.exit(two.withLock(key, Effect.void))
          return { owner, still: server.cli("GET", lockName()), waiter }
        })
      ).pipe(Effect.withClock(Clock.make()))
      // The same owner, renewed: every renewal writes a new time after the owner's token.
      const ownerOf = (value: string) => value.slice(0, value.indexOf(":"))
      assert.strictEqual(ownerOf(held.still), ownerOf(held.owner))
      assert.notStrictEqual(held.still, held.owner, "renewed")
      assert.isTrue(Exit.isFailure(held.waiter))
      assert.include(String(held.waiter), "waiting for the token store lock")
      assert.strictEqual(lockName(), "", "released by its owner")
      // A holder whose lock was taken over (expired, then taken by another) does not free the new owner's lock.
      const three = yield* RedisTokenStore.make({ url: server.url, prefix, lockTtl })
      const taken = yield* three.withLock(
        key,
        Effect.sync(() => {
          const name = lockName()
          server.cli("SET", name, "someone-else")
          return name
        })
      )
      assert.strictEqual(server.cli("GET", taken), "someone-else")
    }))

  it.scoped("bad addresses are typed errors that name no secret", () =>
    Effect.gen(function*() {
      for (const url of ["http://u:hunter2@127.0.0.1:1", "redis://u:hunter2@127.0.0.1:1/x", "not a url hunter2"]) {
        const error = yield* Effect.flip(RedisTokenStore.make({ url: Redacted.make(url) }))
        assert.strictEqual(error._tag, "TokenStoreError")
        assert.notInclude(error.message, "hunter2")
      }
    }))

  it.scoped("layerConfig reads VEDAUTH_TOKEN_STORE and VEDAUTH_STORE_KEY", () =>
    Effect.gen(function*() {
      const server = yield* Server
      const config = ConfigProvider.fromMap(
        new Map([
          ["VEDAUTH_TOKEN_STORE", Redacted.value(server.url)],
          ["VEDAUTH_STORE_KEY", randomBytes(32).toString("base64")],
          ["VEDAUTH_STORE_PREFIX", `cfg-${randomBytes(4).toString("hex")}:`]
        ])
      )
      const built = yield* Layer.build(Layer.provide(RedisTokenStore.layerConfig(), Layer.setConfigProvider(config)))
      const store = Context.get(built, TokenStore.TokenStore)
      yield* store.set(key, grant(3))
      assert.deepStrictEqual(tokenOf(yield* store.read(key)), Option.some("access-3=="))
    }))
})

describe("a redis-server with TLS and an ACL user", () => {
  const user = { name: "vedauth", password: "s3cret-pass" }
  layer(Layer.scoped(Server, redisServer({ tls: true, user })), { excludeTestServices: true })("rediss://", (it) => {
    for (const test of TokenStoreConformance.cases.slice(0, 4)) {
      it.scoped(`conformance: ${test.name}`, () => provideFresh(test.run))
    }

    it.scoped("a wrong password is a TokenStoreError that echoes no password", () =>
      Effect.gen(function*() {
        const server = yield* Server
        const url = Redacted.make(`rediss://${user.name}:wrong-pass-42@127.0.0.1:${server.port}`)
        const error = yield* Effect.flip(
          RedisTokenStore.make({ url, ...(server.ca === undefined ? {} : { ca: server.ca }) })
        )
        assert.strictEqual(error._tag, "TokenStoreError")
        assert.notInclude(error.message, "wrong-pass-42")
        assert.notInclude(error.message, user.password)
      }))

    it.scoped("TLS is verified: without the CA the server's certificate is refused", () =>
      Effect.gen(function*() {
        const server = yield* Server
        const error = yield* Effect.flip(RedisTokenStore.make({ url: server.url }))
        assert.strictEqual(error._tag, "TokenStoreError")
        assert.notInclude(error.message, user.password)
      }))
  })
})
