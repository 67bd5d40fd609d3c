/**
 * The file store on the real file system, through `NodeTokenStoreFiles`: format, modes, atomic
 * replace, corrupt files, the lock file, and locks left by a killed process or a skewed clock.
 */
import { assert, describe, it } from "@effect/vitest"
import * as TokenStore from "@vedauth/core/TokenStore"
import * as TokenStoreConformance from "@vedauth/core/TokenStoreConformance"
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import { grant, key, nodeFiles, otherKey, storeAt, tempFolder } from "./support/store.js"
import { bundleWorker, startWorker } from "./support/worker.js"

const io = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("conformance: TokenStore.layerFileSystem on the real file system", () => {
  const fresh = Layer.unwrapScoped(
    Effect.map(tempFolder, (dir) => TokenStore.layerFileSystem({ path: Path.join(dir, "s", "tokens.json") }))
  ).pipe(
    Layer.provide(nodeFiles)
  )
  for (const test of TokenStoreConformance.cases) it.live(test.name, () => Effect.provide(test.run, fresh))

  // The lock's cases: two store instances on one file are what two processes hold.
  const staleAfter = Duration.seconds(1)
  for (const test of TokenStoreConformance.lockCases) {
    it.live(test.name, () =>
      Effect.gen(function*() {
        const file = Path.join(yield* tempFolder, "s", "tokens.json")
        const one = yield* storeAt(file, { staleAfter })
        const peers = TokenStoreConformance.Peers.of({
          open: storeAt(file, { staleAfter }),
          // What a crashed holder leaves: a lock file with no process to look up, never beaten again.
          abandon: () =>
            io(async () => {
              await Fs.mkdir(Path.dirname(file), { recursive: true, mode: 0o700 })
              await Fs.writeFile(`${file}.lock`, JSON.stringify({ owner: "crashed", at: Date.now() }), { mode: 0o600 })
            })
        })
        yield* test.run.pipe(
          Effect.provideService(TokenStore.TokenStore, one),
          Effect.provideService(TokenStoreConformance.Peers, peers)
        )
      }).pipe(Effect.scoped))
  }
})

describe("TokenStore.layerFileSystem on the real file system", () => {
  it.scoped("round-trips grants, file 0600 in a 0700 folder, versioned format, no temp files left", () =>
    Effect.gen(function*() {
      const file = Path.join(yield* tempFolder, "state", "vedauth", "tokens.json")
      const s = yield* storeAt(file)
      yield* s.set(key, grant(1))
      yield* s.set(otherKey, grant(2))
      yield* s.set(key, grant(3))
      const back = Option.getOrThrow(yield* s.get(key))
      assert.strictEqual(Redacted.value(back.accessToken), "access-3==")
      assert.strictEqual(Redacted.value(Option.getOrThrow(back.refreshToken)), "refresh-3==")
      assert.strictEqual((yield* io(() => Fs.stat(file))).mode & 0o777, 0o600)
      assert.strictEqual((yield* io(() => Fs.stat(Path.dirname(file)))).mode & 0o777, 0o700)
      const json = JSON.parse(yield* io(() => Fs.readFile(file, "utf8")))
      assert.strictEqual(json.format, "vedauth-token-store")
      assert.strictEqual(json.version, 2)
      assert.strictEqual(json.revision, 3)
      assert.strictEqual(json.grants[TokenStore.keyString(key)].version, 3)
      assert.strictEqual(Object.keys(json.grants).length, 2)
      assert.deepStrictEqual(yield* io(() => Fs.readdir(Path.dirname(file))), ["tokens.json"])
      yield* s.remove(key)
      assert.isTrue(Option.isNone(yield* s.get(key)))
    }))

  it.scoped("reads a version 1 file (no record versions) and writes it back as version 2", () =>
    Effect.gen(function*() {
      const dir = yield* tempFolder
      const file = Path.join(dir, "tokens.json")
      yield* io(() => Fs.chmod(dir, 0o700))
      const grants = {
        [TokenStore.keyString(key)]: JSON.parse(
          JSON.stringify({
            accessToken: "a==",
            refreshToken: null,
            tokenType: "Bearer",
            scope: "s",
            identity: "i",
            issuedAt: "1970-01-01T00:00:00.000Z",
            expiresAt: "1970-01-01T01:00:00.000Z",
            refreshUntil: null
          })
        )
      }
      yield* io(() =>
        Fs.writeFile(file, JSON.stringify({ format: "vedauth-token-store", version: 1, grants }), { mode: 0o600 })
      )
      const s = yield* storeAt(file)
      const read = Option.getOrThrow(yield* s.read(key))
      assert.strictEqual(Redacted.value(read.grant.accessToken), "a==")
      const written = yield* s.compareAndSet(key, Option.some(read.version), Option.some(grant(2)))
      assert.strictEqual(written._tag, "Written")
      assert.strictEqual(JSON.parse(yield* io(() => Fs.readFile(file, "utf8"))).version, 2)
    }))

  it.scoped("a corrupt or foreign file is a TokenStoreError on get and set, and is never overwritten", () =>
    Effect.gen(function*() {
      const file = Path.join(yield* tempFolder, "tokens.json")
      const texts = [
        "{not json",
        "[1,2]",
        "{\"format\":\"something-else\",\"grants\":{}}",
        "{\"format\":\"vedauth-token-store\",\"version\":3,\"grants\":{}}",
        "{\"format\":\"vedauth-token-store\",\"version\":2,\"revision\":1,\"grants\":{\"k\":{\"version\":5,\"grant\":{}}}}",
        "\xff\xfe"
      ]
      for (const text of texts) {
        yield* io(() => Fs.writeFile(file, text, { mode: 0o600 }))
        const s = yield* storeAt(file)
        const got = yield* Effect.flip(s.get(key))
        assert.strictEqual(got._tag, "TokenStoreError")
        assert.include(got.message, file)
        assert.strictEqual((yield* Effect.flip(s.set(key, grant(1))))._tag, "TokenStoreError")
        assert.strictEqual(yield* io(() => Fs.readFile(file, "latin1")), Buffer.from(text).toString("latin1"))
      }
    }))

  it.scoped("a grant entry that does not decode is a TokenStoreError, not a crash", () =>
    Effect.gen(function*() {
      const file = Path.join(yield* tempFolder, "tokens.json")
      const grants = { [TokenStore.keyString(key)]: { version: 1, grant: { accessToken: 42 } } }
      yield* io(() =>
        Fs.writeFile(file, JSON.stringify({ format: "vedauth-token-store", version: 2, revision: 1, grants }), {
          mode: 0o600
        })
      )
      const s = yield* storeAt(file)
      assert.strictEqual((yield* Effect.flip(s.get(key)))._tag, "TokenStoreError")
      assert.strictEqual((yield* Effect.flip(s.list))._tag, "TokenStoreError")
    }))

  it.scoped("withLock holds a lock file (0600, with pid and host) beside the store and removes it after", () =>
    Effect.gen(function*() {
      const file = Path.join(yield* tempFolder, "state", "tokens.json")
      const s = yield* storeAt(file)
      const during = yield* s.withLock(
        key,
        Effect.zipRight(s.set(key, grant(1)), io(() => Fs.readFile(`${file}.lock`, "utf8")))
      )
      const lock = JSON.parse(during)
      assert.strictEqual(lock.pid, process.pid)
      assert.strictEqual(lock.host, Os.hostname())
      yield* io(() => Fs.access(`${file}.lock`).then(() => assert.fail("the lock outlived withLock"), () => undefined))
    }))
})

describe("locks left behind", () => {
  // A stale time far longer than any test: only the pid or the timestamp can explain a takeover.
  const minutes = Duration.minutes

  it.scopedLive("kill -9 of the lock holder: the next process takes the lock over at once (its pid is gone)", () =>
    Effect.gen(function*() {
      const dir = yield* tempFolder
      const file = Path.join(dir, "state", "tokens.json")
      const bundle = yield* io(() =>
        bundleWorker(new URL("./lockHolder.ts", import.meta.url).pathname, Path.join(dir, "holder.cjs"))
      )
      const holder = startWorker(bundle, [file])
      yield* io(() => holder.said("locked"))
      assert.strictEqual(JSON.parse(yield* io(() => Fs.readFile(`${file}.lock`, "utf8"))).pid, holder.pid)
      process.kill(holder.pid, "SIGKILL")
      yield* io(() => holder.done)
      const s = yield* storeAt(file, { staleAfter: minutes(10), timeout: minutes(2) })
      assert.strictEqual(yield* s.withLock(key, Effect.succeed("ran")), "ran")
    }))

  it.scopedLive("a lock whose timestamp is a day in the future (clock skew) does not block: it is taken over", () =>
    Effect.gen(function*() {
      const file = Path.join(yield* tempFolder, "tokens.json")
      const s = yield* storeAt(file, { staleAfter: minutes(10), timeout: minutes(2) })
      yield* s.set(key, grant(1))
      // A live process (this one) on this host, so only the timestamp makes it stale.
      const lock = { owner: "skewed", at: Date.now() + 86_400_000, pid: process.pid, host: Os.hostname() }
      yield* io(() => Fs.writeFile(`${file}.lock`, JSON.stringify(lock), { mode: 0o600 }))
      assert.strictEqual(yield* s.withLock(key, Effect.succeed("ran")), "ran")
    }))

  it.scopedLive("a live holder's lock is waited for, bounded by the timeout", () =>
    Effect.gen(function*() {
      const file = Path.join(yield* tempFolder, "tokens.json")
      const s = yield* storeAt(file, { staleAfter: minutes(10), timeout: Duration.millis(300) })
      yield* s.set(key, grant(1))
      const lock = { owner: "alive", at: Date.now(), pid: process.pid, host: Os.hostname() }
      yield* io(() => Fs.writeFile(`${file}.lock`, JSON.stringify(lock), { mode: 0o600 }))
      const error = yield* Effect.flip(s.withLock(key, Effect.succeed("ran")))
      assert.include(error.message, `pid ${process.pid}`)
    }))
})
