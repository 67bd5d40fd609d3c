/**
 * The attacks of issue #12 on the token store, each on real files, with a real second local user
 * where the attack needs one: every one must end in a `TokenStoreError` that says what to fix, with
 * nothing planted used and nothing of the victim's written, and never in a hang.
 */
import { assert, describe, it } from "@effect/vitest"
import * as VedAuth from "@vedauth/core/VedAuth"
import { Duration, Effect, Either, Logger, LogLevel, Option, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as NodeVedAuth from "../src/NodeVedAuth.js"
import { localUser } from "./support/localUser.js"
import { grant, key, storeAt, storeText, tempFolder } from "./support/store.js"

const io = <A>(f: () => Promise<A>) => Effect.promise(f)

// The store folder `dir/vedauth` (mode 0700, ours) and the file in it.
const ownStore = Effect.gen(function*() {
  const folder = Path.join(yield* tempFolder, "vedauth")
  yield* io(() => Fs.mkdir(folder, { mode: 0o700 }))
  return { folder, file: Path.join(folder, "tokens.json") }
})

const refused = (error: { readonly _tag: string; readonly message: string }, ...words: ReadonlyArray<string>) => {
  assert.strictEqual(error._tag, "TokenStoreError")
  for (const word of words) assert.include(error.message, word)
}

describe("another local user", () => {
  it.scoped("plants a token in a store folder they own: refused, the planted token never read", () =>
    Effect.gen(function*() {
      const mallory = yield* localUser
      const { folder } = yield* ownStore
      // The folder is theirs (e.g. a shared path they made first); they write a valid store into it.
      yield* io(() => Fs.chown(folder, mallory.uid, mallory.gid))
      yield* mallory.sh(`printf '%s' '${storeText(666)}' > tokens.json && chmod 600 tokens.json`, folder)
      const s = yield* storeAt(Path.join(folder, "tokens.json"))
      refused(yield* Effect.flip(s.get(key)), "owned by user id", String(mallory.uid), "folder")
      refused(yield* Effect.flip(s.set(key, grant(1))), "owned by user id")
      assert.include(yield* io(() => Fs.readFile(Path.join(folder, "tokens.json"), "utf8")), "access-666==")
    }))

  it.scoped("plants a fresh token for NodeVedAuth.layer (what `vedauth token` runs on): a TokenStoreError, never their token", () =>
    Effect.gen(function*() {
      const mallory = yield* localUser
      const { folder, file } = yield* ownStore
      yield* io(() => Fs.chown(folder, mallory.uid, mallory.gid))
      yield* mallory.sh(`printf '%s' '${storeText(666, true)}' > tokens.json && chmod 600 tokens.json`, folder)
      const layer = NodeVedAuth.layer({
        url: key.server,
        clientId: key.clientId,
        scope: key.scope,
        username: key.user,
        tokenStorePath: file
      })
      const result = yield* Effect.either(Effect.provide(VedAuth.accessToken, layer))
      assert.isTrue(Either.isLeft(result), "the planted token was used")
      if (Either.isLeft(result)) refused(result.left, "owned by user id")
    }))

  it.scoped("plants a token file in our folder (the file is theirs): refused, says to remove it", () =>
    Effect.gen(function*() {
      const mallory = yield* localUser
      const { file } = yield* ownStore
      yield* io(() => Fs.writeFile(file, storeText(666), { mode: 0o600 }))
      yield* io(() => Fs.chown(file, mallory.uid, mallory.gid))
      const s = yield* storeAt(file)
      refused(yield* Effect.flip(s.get(key)), "owned by user id", String(mallory.uid), "remove it")
      refused(yield* Effect.flip(s.compareAndSet(key, Option.none(), Option.some(grant(1)))), "owned by user id")
    }))

  it.scoped("writes a token into a world-writable (0777) store folder: the folder is refused", () =>
    Effect.gen(function*() {
      const mallory = yield* localUser
      const { folder, file } = yield* ownStore
      yield* io(() => Fs.chmod(folder, 0o777))
      yield* mallory.sh(`printf '%s' '${storeText(666)}' > tokens.json`, folder)
      const s = yield* storeAt(file)
      refused(yield* Effect.flip(s.get(key)), "writable by group or others", "0777", "chmod 700")
    }))
})

describe("modes of our own store", () => {
  it.scoped("a group- or world-writable store file (0666, 0620) is refused", () =>
    Effect.gen(function*() {
      const { file } = yield* ownStore
      for (const mode of [0o666, 0o620]) {
        yield* io(() => Fs.writeFile(file, storeText(1)))
        yield* io(() => Fs.chmod(file, mode))
        refused(yield* Effect.flip(Effect.flatMap(storeAt(file), (s) => s.get(key))), "writable by group or others")
      }
    }))

  it.scoped("a 0644 store of our own is tightened to 0600 with a warning, and used", () =>
    Effect.gen(function*() {
      const { file } = yield* ownStore
      yield* io(() => Fs.writeFile(file, storeText(1)))
      yield* io(() => Fs.chmod(file, 0o644))
      const warnings: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => {
        if (logLevel === LogLevel.Warning) warnings.push(String(message))
      })
      const got = yield* Effect.flatMap(storeAt(file), (s) => s.get(key)).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      assert.strictEqual(Redacted.value(Option.getOrThrow(got).accessToken), "access-1==")
      assert.strictEqual((yield* io(() => Fs.stat(file))).mode & 0o777, 0o600)
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0], "0644")
      assert.notInclude(warnings[0], "access-1")
    }))

  it.scoped("a group-writable store folder of our own (0770) is refused", () =>
    Effect.gen(function*() {
      const { file, folder } = yield* ownStore
      yield* io(() => Fs.chmod(folder, 0o770))
      refused(yield* Effect.flip(Effect.flatMap(storeAt(file), (s) => s.set(key, grant(1)))), "0770")
      yield* io(() =>
        Fs.access(file).then(() => assert.fail("a store was written into an untrusted folder"), () => undefined)
      )
    }))
})

describe("symbolic links and special files", () => {
  it.scoped("the store path is a symlink to a victim file: refused on read and write, the victim untouched", () =>
    Effect.gen(function*() {
      const { file, folder } = yield* ownStore
      const victim = Path.join(folder, "..", "bashrc")
      yield* io(() => Fs.writeFile(victim, "precious\n"))
      yield* io(() => Fs.symlink(victim, file))
      const s = yield* storeAt(file)
      refused(yield* Effect.flip(s.get(key)), "symbolic link")
      refused(yield* Effect.flip(s.set(key, grant(1))), "symbolic link")
      assert.strictEqual(yield* io(() => Fs.readFile(victim, "utf8")), "precious\n")
    }))

  it.scoped("a symlink to /dev/zero at the store path is refused at once, nothing read", () =>
    Effect.gen(function*() {
      const { file } = yield* ownStore
      yield* io(() => Fs.symlink("/dev/zero", file))
      refused(yield* Effect.flip(Effect.flatMap(storeAt(file), (s) => s.get(key))), "symbolic link")
    }))

  it.scoped("a character device (mknod c 1 5, a /dev/zero) at the store path is refused, not read", () =>
    Effect.gen(function*() {
      const { file } = yield* ownStore
      execFileSync("mknod", ["-m", "600", file, "c", "1", "5"])
      refused(
        yield* Effect.flip(Effect.flatMap(storeAt(file), (s) => s.get(key))),
        "CharacterDevice",
        "not a regular file"
      )
    }))

  it.scoped("a FIFO at the store path is refused at once instead of hanging the read", () =>
    Effect.gen(function*() {
      const { file } = yield* ownStore
      execFileSync("mkfifo", ["-m", "600", file])
      const s = yield* storeAt(file)
      refused(yield* Effect.flip(s.get(key)), "FIFO", "not a regular file")
      refused(yield* Effect.flip(s.set(key, grant(1))), "FIFO")
    }))

  it.scoped("a store file larger than the cap is refused, not read", () =>
    Effect.gen(function*() {
      const { file } = yield* ownStore
      yield* io(() => Fs.writeFile(file, Buffer.alloc(64 * 1024, 0x20), { mode: 0o600 }))
      refused(
        yield* Effect.flip(Effect.flatMap(storeAt(file, { maxFileBytes: 16 * 1024 }), (s) => s.get(key))),
        "more than"
      )
    }))

  it.scoped("a symlink planted at the lock path: withLock fails, the victim is not truncated or written", () =>
    Effect.gen(function*() {
      const { file, folder } = yield* ownStore
      const victim = Path.join(folder, "..", "bashrc")
      yield* io(() => Fs.writeFile(victim, "precious\n"))
      yield* io(() => Fs.symlink(victim, `${file}.lock`))
      const s = yield* storeAt(file, { timeout: Duration.seconds(1) })
      refused(yield* Effect.flip(s.withLock(key, Effect.void)), "symbolic link")
      assert.strictEqual(yield* io(() => Fs.readFile(victim, "utf8")), "precious\n")
    }))

  it.scopedLive("the lock swapped for a symlink while held: the heartbeat never writes through the name", () =>
    Effect.gen(function*() {
      const { file, folder } = yield* ownStore
      const victim = Path.join(folder, "..", "bashrc")
      yield* io(() => Fs.writeFile(victim, "precious\n"))
      const beats: Array<string> = []
      const logger = Logger.make(({ message }) => void beats.push(String(message)))
      // A short stale time: the heartbeat (every staleAfter / 3) runs while the lock is held.
      const s = yield* storeAt(file, { staleAfter: Duration.millis(150) })
      const swapped = s.withLock(
        key,
        Effect.gen(function*() {
          yield* io(() => Fs.rm(`${file}.lock`))
          yield* io(() => Fs.symlink(victim, `${file}.lock`))
          // Wait (on the live clock, as the heartbeat does) until a heartbeat has looked at the swapped lock.
          yield* Effect.repeat(Effect.sleep("10 millis"), {
            until: () => beats.some((b) => b.includes("could not refresh"))
          })
        })
      ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Logger.withMinimumLogLevel(LogLevel.Debug))
      yield* swapped
      assert.strictEqual(yield* io(() => Fs.readFile(victim, "utf8")), "precious\n")
    }))
})
