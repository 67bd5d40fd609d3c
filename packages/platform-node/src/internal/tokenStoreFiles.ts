/**
 * `TokenStoreFiles` on `node:fs` (also what Deno and Bun run, through their Node compatibility): the
 * one reader of every local file. Every open is `O_NOFOLLOW` (a planted symbolic link fails with
 * ELOOP instead of being followed) unless the caller reads a file that is a link by design, and
 * reads open `O_NONBLOCK` (a FIFO opens at once instead of blocking a libuv thread for good);
 * type, owner, mode and size are then read with `fstat` through the same descriptor.
 * @internal
 */
import type * as TokenStoreFiles from "@vedauth/core/TokenStoreFiles"
import { TokenStoreError } from "@vedauth/core/VedAuthError"
import { Effect, Option, Scope } from "effect"
import { constants } from "node:fs"
import type { Stats } from "node:fs"
import type { FileHandle } from "node:fs/promises"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"

// Windows has neither flag: there the store relies on the folder's ACL, as the docs say.
const noFollow = constants.O_NOFOLLOW ?? 0
const nonBlocking = constants.O_NONBLOCK ?? 0
const hasOwners = typeof process.getuid === "function"

type Errno = NodeJS.ErrnoException

const typeOf = (stats: Stats): TokenStoreFiles.Info["type"] =>
  stats.isFile()
    ? "File"
    : stats.isDirectory()
    ? "Directory"
    : stats.isSymbolicLink()
    ? "SymbolicLink"
    : stats.isFIFO()
    ? "FIFO"
    : stats.isSocket()
    ? "Socket"
    : stats.isCharacterDevice()
    ? "CharacterDevice"
    : stats.isBlockDevice()
    ? "BlockDevice"
    : "Unknown"

const infoOf = (stats: Stats): TokenStoreFiles.Info => ({
  type: typeOf(stats),
  mode: stats.mode & 0o7777,
  uid: hasOwners ? Option.some(stats.uid) : Option.none(),
  size: stats.size
})

const fail = (path: string, detail: string) => new TokenStoreError({ detail, path })

const describe = (doing: string, error: Errno): string =>
  error.code === "ELOOP"
    ? "it is a symbolic link, which is never followed here (another user could point it at any file); replace it with the file itself"
    : error.code === "ENXIO"
    ? "it is a socket or device, not a regular file; remove it"
    : `cannot ${doing}: ${error.code ?? "error"} ${error.message}`

// A promise as an interruptible effect: interrupting stops the wait (the system call, if any, ends
// on its own); errors keep their errno code for the callers that treat ENOENT or EEXIST as answers.
const call = <A>(f: () => Promise<A>): Effect.Effect<A, Errno> =>
  Effect.tryPromise({ try: f, catch: (error) => error as Errno })

const is = (code: string) => (error: Errno) => error.code === code

// Opens interruptibly; a descriptor that arrives after the caller gave up is closed, not leaked.
const open = (path: string, flags: number, mode?: number): Effect.Effect<FileHandle, Errno> =>
  Effect.async<FileHandle, Errno>((resume) => {
    let abandoned = false
    Fs.open(path, flags, mode).then(
      (handle) => (abandoned ? void handle.close().catch(() => undefined) : resume(Effect.succeed(handle))),
      (error: Errno) => (abandoned ? undefined : resume(Effect.fail(error)))
    )
    return Effect.sync(() => {
      abandoned = true
    })
  })

const close = (handle: FileHandle) => Effect.promise(() => handle.close().catch(() => undefined))

// Runs `use` on a descriptor that is closed whatever happens; only the open itself may be cut short.
const withHandle = <A, E>(
  opened: Effect.Effect<Option.Option<FileHandle>, E>,
  use: (handle: FileHandle) => Effect.Effect<A, E>
): Effect.Effect<Option.Option<A>, E> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(restore(opened), (handle) =>
      Option.isNone(handle)
        ? Effect.succeedNone
        : restore(Effect.map(use(handle.value), Option.some)).pipe(Effect.ensuring(close(handle.value))))
  )

const writeAll = (handle: FileHandle, content: string | Uint8Array) =>
  call(async () => {
    const bytes = typeof content === "string"
      ? Buffer.from(content, "utf8")
      : Buffer.from(content.buffer, content.byteOffset, content.byteLength)
    let written = 0
    while (written < bytes.length) {
      written += (await handle.write(bytes, written, bytes.length - written, written)).bytesWritten
    }
    await handle.truncate(bytes.length)
    await handle.sync()
  })

const regularFile = (path: string, handle: FileHandle, maxBytes: number) =>
  call(() => handle.stat()).pipe(
    Effect.mapError((error) => fail(path, describe("inspect", error))),
    Effect.map(infoOf),
    Effect.filterOrFail(
      (info) => info.type === "File",
      (info) => fail(path, `it is a ${info.type}, not a regular file; remove it`)
    ),
    Effect.filterOrFail(
      (info) => info.size <= maxBytes,
      (info) => fail(path, `it is ${info.size} bytes, more than such a file ever holds (${maxBytes}); move it aside`)
    )
  )

// Reads through the descriptor in chunks sized by `fstat`, stopping one byte past the cap: a file
// that grows while we read (or lies about its size) is still refused, not followed to the end.
const readCappedBytes = (path: string, handle: FileHandle, info: TokenStoreFiles.Info, maxBytes: number) =>
  call(async () => {
    const chunks: Array<Buffer> = []
    let total = 0
    for (;;) {
      const chunk = Buffer.alloc(Math.min(maxBytes + 1 - total, Math.max(info.size + 1, 4096)))
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, total)
      if (bytesRead === 0) break
      chunks.push(chunk.subarray(0, bytesRead))
      total += bytesRead
      if (total > maxBytes) break
    }
    return Buffer.concat(chunks)
  }).pipe(
    Effect.mapError((error) => fail(path, describe("read", error))),
    Effect.filterOrFail(
      (bytes) => bytes.length <= maxBytes,
      () => fail(path, `it grew past ${maxBytes} bytes while being read; move it aside`)
    )
  )

const decodeText = (path: string, bytes: Uint8Array) =>
  Effect.try({
    try: () => new TextDecoder("utf-8", { fatal: true }).decode(bytes),
    catch: () => fail(path, "it is not UTF-8 text; move it aside")
  })

const readBytes = (path: string, { followLinks, maxBytes }: TokenStoreFiles.ReadOptions) =>
  withHandle(
    openOrNone(path, "ENOENT", constants.O_RDONLY | (followLinks ? 0 : noFollow) | nonBlocking),
    (handle) =>
      Effect.gen(function*() {
        const info = yield* regularFile(path, handle, maxBytes)
        const bytes: Uint8Array = yield* readCappedBytes(path, handle, info, maxBytes)
        return { info, bytes }
      })
  )

/** @internal */
export const make = (): TokenStoreFiles.Service => ({
  uid: hasOwners ? Option.some(process.getuid!()) : Option.none(),
  pid: Option.some(process.pid),
  host: Os.hostname(),
  isRunning: (pid) =>
    Effect.sync(() => {
      try {
        process.kill(pid, 0)
        return true
      } catch (error) {
        // EPERM: it runs, as another user.
        return (error as Errno).code !== "ESRCH"
      }
    }),
  lstat: (path) =>
    call(() => Fs.lstat(path)).pipe(
      Effect.map((stats) => Option.some(infoOf(stats))),
      Effect.catchIf(is("ENOENT"), () => Effect.succeedNone),
      Effect.mapError((error) => fail(path, describe("inspect", error)))
    ),
  makeDirectory: (path) =>
    call(() => Fs.mkdir(path, { recursive: true, mode: 0o700 })).pipe(
      Effect.mapError((error) => fail(path, describe("create the folder", error))),
      Effect.asVoid
    ),
  readFile: (path, maxBytes) =>
    Effect.flatMap(readBytes(path, { maxBytes, followLinks: false }), (read) =>
      Option.isNone(read)
        ? Effect.succeedNone
        : Effect.map(decodeText(path, read.value.bytes), (text) => Option.some({ info: read.value.info, text }))),
  readBytes,
  createExclusive: (path, content) =>
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      const created = yield* Effect.uninterruptibleMask((restore) =>
        Effect.tap(
          restore(
            openOrNone(path, "EEXIST", constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | noFollow, 0o600)
          ),
          (handle) => (Option.isSome(handle) ? Scope.addFinalizer(scope, close(handle.value)) : Effect.void)
        )
      )
      if (Option.isNone(created)) return Option.none()
      const handle = created.value
      const rewrite = (text: string | Uint8Array) =>
        writeAll(handle, text).pipe(Effect.mapError((error) => fail(path, describe("write", error))))
      // The mode given to open passes through the umask; set it exactly, through the descriptor.
      yield* call(() => handle.chmod(0o600)).pipe(
        Effect.mapError((error) => fail(path, describe("set the mode of", error))),
        Effect.zipRight(rewrite(content)),
        // We created it exclusively, in a folder only we can write to: removing it by name is safe.
        Effect.tapError(() => Effect.ignore(call(() => Fs.unlink(path))))
      )
      return Option.some<TokenStoreFiles.Handle>({ rewrite })
    }),
  restrictMode: (path, mode) =>
    withHandle(
      openOrNone(path, "ENOENT", constants.O_RDONLY | noFollow | nonBlocking),
      (handle) =>
        regularFile(path, handle, Number.MAX_SAFE_INTEGER).pipe(
          Effect.zipRight(
            call(() => handle.chmod(mode)).pipe(
              Effect.mapError((error) => fail(path, describe("set the mode of", error)))
            )
          )
        )
    ).pipe(Effect.asVoid),
  rename: (from, to) =>
    call(() => Fs.rename(from, to)).pipe(Effect.mapError((error) => fail(to, describe("replace", error)))),
  remove: (path) =>
    call(() => Fs.unlink(path)).pipe(
      Effect.catchIf(is("ENOENT"), () => Effect.void),
      Effect.mapError((error) => fail(path, describe("remove", error)))
    )
})

// `absent` is the errno that means "not there" (ENOENT to read) or "already there" (EEXIST to create).
const openOrNone = (path: string, absent: string, flags: number, mode?: number) =>
  open(path, flags, mode).pipe(
    Effect.map(Option.some),
    Effect.catchIf(is(absent), () => Effect.succeedNone),
    Effect.mapError((error) => fail(path, describe("open", error)))
  )
