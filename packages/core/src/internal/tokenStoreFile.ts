import { Path } from "@effect/platform"
import { Duration, Effect, Option, Schema } from "effect"
import { Grant } from "../Grant.js"
import { replace } from "../LocalFiles.js"
import type * as TokenStore from "../TokenStore.js"
import { keyString, make as makeStore } from "../TokenStore.js"
import { TokenStoreFiles } from "../TokenStoreFiles.js"
import { emptyStore, parseKey, parseStore, printStore, type StoreData } from "../TokenStoreFormat.js"
import { TokenStoreError } from "../VedAuthError.js"
import { defaultLockOptions, type LockOptions, makeFileLock } from "./fileLock.js"
import { randomHex } from "./random.js"
import { checkFile, checkFolder } from "./tokenStore/trust.js"
import { compareAndSetIn, type Records } from "./tokenStore/versioned.js"

/**
 * Options of the file store.
 *
 * @internal
 */
export interface FileStoreOptions extends Partial<LockOptions> {
  readonly path: string
  readonly maxFileBytes?: number
  readonly ioTimeout?: Duration.Duration
}

const decodeGrant = Schema.decodeUnknown(Grant)
const encodeGrant = Schema.encode(Grant)

/**
 * The token store in one JSON file (see `TokenStoreFormat`), mode 0600 in a 0700 folder that
 * must be the user's own, replaced atomically (temp file in the same folder, then rename), and a
 * lock file beside it so that processes sharing the file take turns. Every read and write goes
 * through `TokenStoreFiles` (no symbolic link followed, no special file read) under `ioTimeout`.
 *
 * @internal
 */
export const makeFile = (options: FileStoreOptions) =>
  Effect.gen(function*() {
    const files = yield* TokenStoreFiles
    const path = yield* Path.Path
    const file = path.resolve(options.path)
    const folder = path.dirname(file)
    const maxBytes = options.maxFileBytes ?? 4 * 1024 * 1024
    const ioTimeout = options.ioTimeout ?? Duration.seconds(10)
    const fail = (detail: string) => new TokenStoreError({ detail, path: file })

    // A hung file system (a stalled network mount) fails the operation instead of hanging it.
    const bounded = <A>(effect: Effect.Effect<A, TokenStoreError>) =>
      Effect.timeoutFail(effect, {
        duration: ioTimeout,
        onTimeout: () =>
          fail(`the token store did not answer within ${Duration.format(ioTimeout)}; is its file system hung?`)
      })

    // The folder is checked on every operation: it is what keeps other users from swapping the file.
    const trustedFolder = (create: boolean) =>
      Effect.gen(function*() {
        if (create) yield* files.makeDirectory(folder)
        const info = yield* files.lstat(folder)
        if (Option.isNone(info)) return false
        yield* checkFolder(files, folder, info.value)
        return true
      })

    const readStore: Effect.Effect<StoreData, TokenStoreError> = Effect.gen(function*() {
      if (!(yield* trustedFolder(false))) return emptyStore
      const read = yield* files.readFile(file, maxBytes)
      if (Option.isNone(read)) return emptyStore
      yield* checkFile(files, file, read.value.info)
      const parsed = parseStore(read.value.text)
      return parsed.ok ? parsed.value : yield* Effect.fail(fail(parsed.error))
    })

    const writeStore = (data: StoreData) =>
      Effect.gen(function*() {
        const temp = path.join(folder, `.${path.basename(file)}.${randomHex(8)}.tmp`)
        // Failed or interrupted: no temp file is left behind.
        yield* replace(
          file,
          temp,
          printStore(data),
          () => fail("a temporary file of the token store already exists; try again")
        ).pipe(
          Effect.provideService(TokenStoreFiles, files)
        )
      })

    const lock = makeFileLock(files, `${file}.lock`, {
      staleAfter: options.staleAfter ?? defaultLockOptions.staleAfter,
      timeout: options.timeout ?? defaultLockOptions.timeout,
      pollInterval: options.pollInterval ?? defaultLockOptions.pollInterval,
      ioTimeout
    })
    const locked = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.zipRight(bounded(trustedFolder(true)), lock.run(effect))

    const decode = (key: string, version: number, grant: unknown) =>
      decodeGrant(grant).pipe(
        Effect.map((grant): TokenStore.Versioned => ({ grant, version: String(version) })),
        Effect.mapError(() => fail(`the grant stored for ${key} does not decode; move the file aside to start afresh`))
      )
    const records: Records<unknown, TokenStoreError> = {
      decode: (key, record) => decode(key, record.version, record.grant),
      encode: (grant) =>
        Effect.mapError(encodeGrant(grant), () => fail("the grant cannot be encoded for the token store"))
    }

    const readRecord = (key: TokenStore.Key) =>
      Effect.flatMap(readStore, (data) => {
        const record = data.records[keyString(key)]
        return record === undefined
          ? Effect.succeedNone
          : Effect.map(records.decode(keyString(key), record), Option.some)
      })

    // Read, decide and write under the lock; `verifyHeld` because `withLock` may have been held for
    // a while: write only if the lock is still ours.
    const compareAndSet = (
      key: TokenStore.Key,
      expected: Option.Option<TokenStore.Version>,
      next: Option.Option<Grant>
    ) =>
      locked(bounded(Effect.gen(function*() {
        const data = yield* readStore
        const { result, write } = yield* compareAndSetIn(records, data, keyString(key), expected, next)
        if (write !== undefined) {
          yield* lock.verifyHeld
          yield* writeStore(write)
        }
        return result
      })))

    return makeStore({
      read: (key) => bounded(readRecord(key)),
      compareAndSet,
      list: bounded(Effect.flatMap(readStore, (data) =>
        Effect.forEach(Object.entries(data.records), ([text, record]) => {
          const key = parseKey(text)
          return key === undefined
            ? Effect.fail(
              fail("a key in the token store is not one vedauth wrote; move the file aside to start afresh")
            )
            : Effect.map(records.decode(text, record), (versioned): TokenStore.Entry => ({ key, ...versioned }))
        }))),
      withLock: (_key, effect) => locked(effect)
    })
  })
