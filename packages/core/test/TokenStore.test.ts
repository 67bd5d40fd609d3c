import { NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import * as TokenStore from "../src/TokenStore.js"
import { cases, lockCases, Peers, sampleGrant } from "../src/TokenStoreConformance.js"
import { MemoryFiles, memoryHost } from "./fixtures/memoryFileSystem.js"

const key: TokenStore.Key = {
  server: "https://tpp.example.test",
  clientId: "app",
  scope: "certificate:manage",
  user: "CORP\\alice"
}
const otherKey: TokenStore.Key = { ...key, scope: "ssh" }

const grant = sampleGrant

const store = TokenStore.TokenStore

describe("conformance: TokenStore.layerMemory", () => {
  for (const test of cases) it.effect(test.name, () => Effect.provide(test.run, TokenStore.layerMemory))
  // One process holds a memory store: its peers are the same store.
  for (const test of lockCases) {
    it.live(test.name, () =>
      Effect.gen(function*() {
        const one = yield* TokenStore.TokenStore
        yield* test.run.pipe(Effect.provideService(Peers, Peers.of({ open: Effect.succeed(one) })))
      }).pipe(Effect.provide(TokenStore.layerMemory), Effect.scoped))
  }
})

describe("conformance: the file store on TokenStoreFiles in memory", () => {
  for (const test of cases) {
    it.effect(
      test.name,
      () =>
        Effect.provide(
          test.run,
          TokenStore.layerFileSystem({ path: "/state/tokens.json" }).pipe(
            Layer.provide(Layer.merge(new MemoryFiles().layer(), NodePath.layer))
          )
        )
    )
  }
})

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
    }).pipe(
      Effect.provide(TokenStore.layerFileSystem({ path: file })),
      Effect.provide(Layer.merge(files.layer(), NodePath.layer))
    )
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
      Effect.provide(
        TokenStore.layerFileSystem({
          path: file,
          timeout: Duration.seconds(5),
          staleAfter: Duration.minutes(10),
          pollInterval: Duration.millis(500)
        })
      ),
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
    }).pipe(
      Effect.provide(TokenStore.layerFileSystem({ path: file, pollInterval: Duration.seconds(1) })),
      Effect.provide(Layer.merge(files.layer(), NodePath.layer))
    )
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
      Effect.provide(
        TokenStore.layerFileSystem({
          path: file,
          timeout: Duration.minutes(10),
          staleAfter: Duration.minutes(10),
          pollInterval: Duration.seconds(1)
        })
      ),
      Effect.provide(Layer.merge(files.layer(), NodePath.layer))
    )
  })

  // Two stores on one file: two processes, each with its own in-process semaphore.
  const twoProcesses = (
    files: MemoryFiles,
    options: Partial<TokenStore.FileSystemOptions> = { timeout: Duration.minutes(5) }
  ) => {
    const one = Effect.provide(
      store,
      TokenStore.layerFileSystem({ path: file, pollInterval: Duration.seconds(1), ...options })
    )
    return Effect.all([one, one]).pipe(Effect.provide(Layer.merge(files.layer(), NodePath.layer)))
  }

  it.effect("a holder working longer than the stale time keeps its lock (heartbeat): no takeover", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      const [a, b] = yield* twoProcesses(files)
      const holder = yield* Effect.fork(
        a.withLock(key, Effect.zipRight(Effect.sleep(Duration.minutes(1)), a.set(key, grant(1))))
      )
      yield* TestClock.adjust(Duration.seconds(1))
      const waiter = yield* Effect.fork(b.withLock(key, b.get(key)))
      yield* TestClock.adjust(Duration.seconds(45))
      assert.isTrue(
        Option.isNone(yield* Fiber.poll(waiter)),
        "the waiter took over a lock whose holder was still working"
      )
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
      const holder = yield* Effect.fork(
        a.withLock(key, Effect.zipRight(Effect.sleep(Duration.minutes(1)), a.set(key, grant(2))))
      )
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

  const lockAt = (files: MemoryFiles, lock: object) =>
    files.files.set(`${file}.lock`, { text: JSON.stringify({ owner: "other", ...lock }), mode: 0o600 })
  const patient = {
    path: file,
    staleAfter: Duration.minutes(10),
    timeout: Duration.minutes(30),
    pollInterval: Duration.seconds(1)
  }
  const withFiles = (files: MemoryFiles, options: TokenStore.FileSystemOptions = patient) =>
    Effect.provide(
      Effect.provide(store, TokenStore.layerFileSystem(options)),
      Layer.merge(files.layer(), NodePath.layer)
    )

  it.effect("a lock whose timestamp is in the future (clock skew) is taken over at once, not when the clock passes it", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      lockAt(files, { at: 86_400_000, pid: 4242, host: "another-host" })
      const s = yield* withFiles(files)
      const fiber = yield* Effect.fork(s.withLock(key, Effect.succeed("ran")))
      yield* TestClock.adjust(Duration.seconds(2))
      assert.strictEqual(yield* Fiber.join(fiber), "ran")
    })
  })

  it.effect("a lock whose process is gone (same host, pid not running) is taken over at once", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      lockAt(files, { at: 0, pid: 4242, host: memoryHost })
      files.dead.add(4242)
      const s = yield* withFiles(files)
      const fiber = yield* Effect.fork(s.withLock(key, Effect.succeed("ran")))
      yield* TestClock.adjust(Duration.seconds(2))
      assert.strictEqual(yield* Fiber.join(fiber), "ran")
    })
  })

  it.effect("a lock of another host whose timestamp never moves is taken over after the stale time by the waiter's own clock", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      // Slightly ahead (skew below the future threshold), from a host whose pids we cannot check.
      lockAt(files, { at: 60_000, pid: 4242, host: "another-host" })
      const s = yield* withFiles(files)
      const fiber = yield* Effect.fork(s.withLock(key, Effect.succeed("ran")))
      yield* TestClock.adjust(Duration.minutes(9))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "a live-looking lock was taken over early")
      yield* TestClock.adjust(Duration.minutes(2))
      assert.strictEqual(yield* Fiber.join(fiber), "ran")
    })
  })

  it.effect("by default the wait outlasts a crashed holder's stale time plus one re-authorize (40 s)", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      lockAt(files, { at: 0, pid: 4242, host: "another-host" })
      const [a, b] = yield* twoProcesses(files, {})
      const reauthorize = Effect.zipRight(Effect.sleep(Duration.seconds(40)), Effect.succeed("authorized"))
      const first = yield* Effect.fork(a.withLock(key, reauthorize))
      const second = yield* Effect.fork(b.withLock(key, reauthorize))
      for (let i = 0; i < 130; i++) yield* TestClock.adjust(Duration.seconds(1))
      assert.deepStrictEqual([yield* Fiber.join(first), yield* Fiber.join(second)], ["authorized", "authorized"])
    })
  })

  it.effect("a hung file system fails every store operation after ioTimeout, never hangs", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      const s = yield* withFiles(files, { path: file, ioTimeout: Duration.seconds(5) })
      yield* s.set(key, grant(1))
      files.hang = true
      const fibers = yield* Effect.forEach(
        [s.get(key), s.set(key, grant(2)), s.list],
        (op) => Effect.fork(Effect.flip(op))
      )
      // The write times out, then so does the release of its lock: two bounds, never a hang.
      yield* TestClock.adjust(Duration.seconds(6))
      yield* TestClock.adjust(Duration.seconds(6))
      for (const fiber of fibers) assert.include((yield* Fiber.join(fiber)).message, "did not answer within 5s")
    })
  })

  it.effect("set inside withLock does not wait for its own lock", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      const s = yield* store
      yield* s.withLock(key, s.set(key, grant(1)))
      assert.isTrue(Option.isSome(yield* s.get(key)))
    }).pipe(
      Effect.provide(TokenStore.layerFileSystem({ path: file })),
      Effect.provide(Layer.merge(files.layer(), NodePath.layer))
    )
  })

  it.effect("a write from a finalizer (uninterruptible) ends and releases the lock: its heartbeat stays interruptible", () => {
    const files = new MemoryFiles()
    return Effect.gen(function*() {
      const s = yield* store
      // As a cleanup's write runs: in `onExit`, where the lock's heartbeat would inherit uninterruptibility.
      const cleanup = yield* Effect.forkDaemon(Effect.uninterruptible(s.withLock(key, s.set(key, grant(1)))))
      yield* TestClock.adjust(Duration.millis(1))
      assert.isTrue(Option.exists(yield* Fiber.poll(cleanup), Exit.isSuccess), "the write under the lock ended")
      assert.isFalse(files.files.has(`${file}.lock`))
      assert.isTrue(Option.isSome(yield* s.get(key)))
    }).pipe(
      Effect.provide(TokenStore.layerFileSystem({ path: file })),
      Effect.provide(Layer.merge(files.layer(), NodePath.layer))
    )
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
