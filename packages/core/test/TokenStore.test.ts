import { FileSystem, Path } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, DateTime, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import * as Grant from "../src/Grant.js"
import * as TokenStore from "../src/TokenStore.js"
import { MemoryFiles } from "./fixtures/memoryFileSystem.js"

const key: TokenStore.Key = { server: "https://tpp.example.test", clientId: "app", scope: "certificate:manage", user: "CORP\\alice" }
const otherKey: TokenStore.Key = { ...key, scope: "ssh" }

const grant = (n: number) =>
  new Grant.Grant({
    accessToken: Redacted.make(`access-${n}==`),
    refreshToken: Option.some(Redacted.make(`refresh-${n}==`)),
    tokenType: "Bearer",
    scope: "certificate:manage",
    identity: "local:{x}",
    issuedAt: DateTime.unsafeMake(0),
    expiresAt: DateTime.unsafeMake(3_600_000),
    refreshUntil: Option.some(DateTime.unsafeMake(86_400_000))
  })

const store = TokenStore.TokenStore
const nodeContext = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

// A temp folder on the real file system, with the store file two levels down (folders to create).
const withRealStore = <A, E>(f: (path: string) => Effect.Effect<A, E, TokenStore.TokenStore | FileSystem.FileSystem | Path.Path>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const root = yield* fs.makeTempDirectoryScoped()
    const file = `${root}/state/vedauth/tokens.json`
    return yield* f(file).pipe(Effect.provide(TokenStore.layerFileSystem({ path: file })))
  }).pipe(Effect.scoped, Effect.provide(nodeContext))

describe("TokenStore.layerMemory", () => {
  it.effect("get / set / remove by key", () =>
    Effect.gen(function*() {
      const s = yield* store
      assert.isTrue(Option.isNone(yield* s.get(key)))
      yield* s.set(key, grant(1))
      yield* s.set(otherKey, grant(2))
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* s.get(key)).accessToken), "access-1==")
      yield* s.remove(key)
      assert.isTrue(Option.isNone(yield* s.get(key)))
      assert.isTrue(Option.isSome(yield* s.get(otherKey)))
    }).pipe(Effect.provide(TokenStore.layerMemory)))
})

describe("TokenStore.layerFileSystem on the real file system", () => {
  it.effect("round-trips grants, file 0600 in a 0700 folder, versioned format, no temp files left", () =>
    withRealStore((file) =>
      Effect.gen(function*() {
        const s = yield* store
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        yield* s.set(key, grant(1))
        yield* s.set(otherKey, grant(2))
        yield* s.set(key, grant(3))
        const back = Option.getOrThrow(yield* s.get(key))
        assert.strictEqual(Redacted.value(back.accessToken), "access-3==")
        assert.strictEqual(Redacted.value(Option.getOrThrow(back.refreshToken)), "refresh-3==")
        assert.isTrue(DateTime.Equivalence(back.expiresAt, grant(3).expiresAt))
        assert.strictEqual((yield* fs.stat(file)).mode & 0o777, 0o600)
        assert.strictEqual((yield* fs.stat(path.dirname(file))).mode & 0o777, 0o700)
        const json = JSON.parse(yield* fs.readFileString(file))
        assert.strictEqual(json.format, "vedauth-token-store")
        assert.strictEqual(json.version, 1)
        assert.strictEqual(Object.keys(json.grants).length, 2)
        assert.deepStrictEqual(yield* fs.readDirectory(path.dirname(file)), ["tokens.json"])
        yield* s.remove(key)
        assert.isTrue(Option.isNone(yield* s.get(key)))
      })
    ))

  it.effect("a corrupt file is a TokenStoreError on get and set, and is never overwritten", () =>
    withRealStore((file) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        yield* fs.makeDirectory(path.dirname(file), { recursive: true })
        for (const text of ["{not json", "[1,2]", "{\"format\":\"something-else\",\"grants\":{}}", "{\"format\":\"vedauth-token-store\",\"version\":2,\"grants\":{}}"]) {
          yield* fs.writeFileString(file, text)
          const s = yield* store
          const got = yield* Effect.flip(s.get(key))
          assert.strictEqual(got._tag, "TokenStoreError")
          assert.include(got.message, file)
          const set = yield* Effect.flip(s.set(key, grant(1)))
          assert.strictEqual(set._tag, "TokenStoreError")
          assert.strictEqual(yield* fs.readFileString(file), text)
        }
      })
    ))

  it.effect("a grant entry that does not decode is a TokenStoreError, not a crash", () =>
    withRealStore((file) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        yield* fs.makeDirectory(path.dirname(file), { recursive: true })
        const grants = { [TokenStore.keyString(key)]: { accessToken: 42 } }
        yield* fs.writeFileString(file, JSON.stringify({ format: "vedauth-token-store", version: 1, grants }))
        const error = yield* Effect.flip(Effect.flatMap(store, (s) => s.get(key)))
        assert.strictEqual(error._tag, "TokenStoreError")
      })
    ))

  it.effect("withLock holds a lock file beside the store and removes it after", () =>
    withRealStore((file) =>
      Effect.gen(function*() {
        const fs = yield* FileSystem.FileSystem
        const s = yield* store
        const during = yield* s.withLock(key, Effect.flatMap(s.set(key, grant(1)), () => fs.exists(`${file}.lock`)))
        assert.isTrue(during)
        assert.isFalse(yield* fs.exists(`${file}.lock`))
      })
    ))
})

describe("TokenStore file store on an in-memory file system (TestClock)", () => {
  const file = "/state/vedauth/tokens.json"

  it.effect("a crash between write and rename leaves the old file intact and no temp file", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      const s = yield* store
      yield* s.set(key, grant(1))
      const before = files.files.get(file)?.text
      files.failRename = true
      const error = yield* Effect.flip(s.set(key, grant(2)))
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.strictEqual(files.files.get(file)?.text, before)
      assert.deepStrictEqual([...files.files.keys()].filter((p) => p.endsWith(".tmp")), [])
      files.failRename = false
      assert.strictEqual(Redacted.value(Option.getOrThrow(yield* s.get(key)).accessToken), "access-1==")
    }).pipe(Effect.provide(TokenStore.layerFileSystem({ path: file })), Effect.provide(Layer.merge(files.layer(), NodePath.layer)))
  })

  it.effect("a lock held by someone else is waited for, and the wait is bounded", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      files.files.set(`${file}.lock`, { text: JSON.stringify({ owner: "other", pid: 4242, at: 0 }), mode: 0o600 })
      const s = yield* store
      const fiber = yield* Effect.fork(s.withLock(key, Effect.succeed("ran")))
      yield* TestClock.adjust(Duration.seconds(6))
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(exit), "timed out")
      assert.include(String(exit), "pid 4242")
    }).pipe(
      Effect.provide(TokenStore.layerFileSystem({ path: file, timeout: Duration.seconds(5), staleAfter: Duration.minutes(10), pollInterval: Duration.millis(500) })),
      Effect.provide(Layer.merge(files.layer(), NodePath.layer))
    )
  })

  it.effect("a stale lock (its holder crashed) is taken over", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      files.files.set(`${file}.lock`, { text: JSON.stringify({ owner: "crashed", at: 0 }), mode: 0o600 })
      const s = yield* store
      const fiber = yield* Effect.fork(s.withLock(key, Effect.succeed("ran")))
      yield* TestClock.adjust(Duration.seconds(31))
      assert.strictEqual(yield* Fiber.join(fiber), "ran")
      assert.isFalse(files.files.has(`${file}.lock`))
    }).pipe(Effect.provide(TokenStore.layerFileSystem({ path: file, pollInterval: Duration.seconds(1) })), Effect.provide(Layer.merge(files.layer(), NodePath.layer)))
  })

  it.effect("a waiter for the lock can be interrupted at once, and leaves the holder's lock alone", () => {
    const files = new MemoryFiles()
    const theirs = JSON.stringify({ owner: "other", pid: 4242, at: 0 })
    return Effect.gen(function*() {
      files.files.set(`${file}.lock`, { text: theirs, mode: 0o600 })
      const s = yield* store
      const waiter = yield* Effect.fork(s.withLock(key, Effect.succeed("ran")))
      yield* TestClock.adjust(Duration.seconds(2))
      const interrupter = yield* Effect.fork(Fiber.interrupt(waiter))
      // Far less than the wait's timeout: the interrupt must not wait for it.
      yield* TestClock.adjust(Duration.millis(100))
      assert.isTrue(Option.isSome(yield* Fiber.poll(interrupter)))
      assert.strictEqual(files.files.get(`${file}.lock`)?.text, theirs)
    }).pipe(
      Effect.provide(TokenStore.layerFileSystem({ path: file, timeout: Duration.minutes(10), staleAfter: Duration.minutes(10), pollInterval: Duration.seconds(1) })),
      Effect.provide(Layer.merge(files.layer(), NodePath.layer))
    )
  })

  // Two stores on one file: two processes, each with its own in-process semaphore.
  const twoProcesses = (files: MemoryFiles) => {
    const one = Effect.provide(store, TokenStore.layerFileSystem({ path: file, timeout: Duration.minutes(5), pollInterval: Duration.seconds(1) }))
    return Effect.all([one, one]).pipe(Effect.provide(Layer.merge(files.layer(), NodePath.layer)))
  }

  it.effect("a holder working longer than the stale time keeps its lock (heartbeat): no takeover", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      const [a, b] = yield* twoProcesses(files)
      const holder = yield* Effect.fork(a.withLock(key, Effect.zipRight(Effect.sleep(Duration.minutes(1)), a.set(key, grant(1)))))
      yield* TestClock.adjust(Duration.seconds(1))
      const waiter = yield* Effect.fork(b.withLock(key, b.get(key)))
      yield* TestClock.adjust(Duration.seconds(45))
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiter)), "the waiter took over a lock whose holder was still working")
      const beat = JSON.parse(files.files.get(`${file}.lock`)!.text) as { at: number }
      assert.isAtLeast(beat.at, 30_000)
      yield* TestClock.adjust(Duration.seconds(15))
      yield* Fiber.join(holder)
      const seen = yield* Fiber.join(waiter)
      assert.strictEqual(Redacted.value(Option.getOrThrow(seen).accessToken), "access-1==")
      assert.isFalse(files.files.has(`${file}.lock`))
    })
  })

  it.effect("a holder whose lock was taken over does not write: TokenStoreError, the file untouched", () => {
    const files = new MemoryFiles()
    const intruder = JSON.stringify({ owner: "intruder", at: 0 })
    return Effect.gen(function*() {
      const [a] = yield* twoProcesses(files)
      yield* a.set(key, grant(1))
      const before = files.files.get(file)?.text
      const holder = yield* Effect.fork(a.withLock(key, Effect.zipRight(Effect.sleep(Duration.minutes(1)), a.set(key, grant(2)))))
      yield* TestClock.adjust(Duration.seconds(1))
      // Another process judged the lock abandoned and took it over.
      files.files.set(`${file}.lock`, { text: intruder, mode: 0o600 })
      yield* TestClock.adjust(Duration.minutes(1))
      const error = yield* Effect.flip(Fiber.join(holder))
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.include(error.message, "taken over")
      assert.strictEqual(files.files.get(file)?.text, before)
      assert.strictEqual(files.files.get(`${file}.lock`)?.text, intruder)
    })
  })

  it.effect("set inside withLock does not wait for its own lock", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      const s = yield* store
      yield* s.withLock(key, s.set(key, grant(1)))
      assert.isTrue(Option.isSome(yield* s.get(key)))
    }).pipe(Effect.provide(TokenStore.layerFileSystem({ path: file })), Effect.provide(Layer.merge(files.layer(), NodePath.layer)))
  })
})

describe("TokenStore.defaultPath", () => {
  const pathFrom = (env: Record<string, string>) =>
    TokenStore.defaultPath.pipe(
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env)))),
      Effect.provide(NodePath.layer)
    )
  it.effect("VEDAUTH_TOKEN_STORE, then XDG_STATE_HOME, then HOME", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* pathFrom({ VEDAUTH_TOKEN_STORE: "/x/t.json", HOME: "/h" }), "/x/t.json")
      assert.strictEqual(yield* pathFrom({ XDG_STATE_HOME: "/s", HOME: "/h" }), "/s/vedauth/tokens.json")
      assert.strictEqual(yield* pathFrom({ HOME: "/h" }), "/h/.local/state/vedauth/tokens.json")
      const error = yield* Effect.flip(pathFrom({}))
      assert.strictEqual(error._op, "MissingData")
    }))
})

describe("TokenStore.list", () => {
  it.effect("memory: every grant with its key as stored (server and user in lower case)", () =>
    Effect.gen(function*() {
      const s = yield* store
      assert.deepStrictEqual(yield* s.list, [])
      yield* s.set(key, grant(1))
      yield* s.set(otherKey, grant(2))
      const entries = yield* s.list
      assert.deepStrictEqual(entries.map((entry) => entry.key.scope).sort(), ["certificate:manage", "ssh"])
      assert.strictEqual(entries[0]?.key.user, "corp\\alice")
      assert.strictEqual(TokenStore.keyString(entries[0]!.key), TokenStore.keyString(key))
    }).pipe(Effect.provide(TokenStore.layerMemory)))

  it.effect("file: the same, decoded; a key that is not ours is a TokenStoreError", () =>
    withRealStore((file) =>
      Effect.gen(function*() {
        const s = yield* store
        const fs = yield* FileSystem.FileSystem
        assert.deepStrictEqual(yield* s.list, [])
        yield* s.set(key, grant(1))
        yield* s.set(otherKey, grant(2))
        const entries = yield* s.list
        assert.strictEqual(entries.length, 2)
        const first = entries.find((entry) => entry.key.scope === key.scope)
        assert.strictEqual(Redacted.value(first!.grant.accessToken), "access-1==")
        const text = (yield* fs.readFileString(file)).replace(JSON.stringify(TokenStore.keyString(otherKey)), "\"not a key\"")
        yield* fs.writeFileString(file, text)
        const error = yield* Effect.flip(s.list)
        assert.strictEqual(error._tag, "TokenStoreError")
      })
    ))

  it("parseKeyString reverses keyString and refuses what is not a key", () => {
    assert.deepStrictEqual(Option.getOrThrow(TokenStore.parseKeyString(TokenStore.keyString(key))), {
      ...key,
      server: key.server.toLowerCase(),
      user: key.user.toLowerCase()
    })
    assert.isTrue(Option.isNone(TokenStore.parseKeyString("[1,2]")))
    assert.isTrue(Option.isNone(TokenStore.parseKeyString("{")))
  })
})
