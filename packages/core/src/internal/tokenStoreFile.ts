import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Option, Schema } from "effect"
import { Grant } from "../Grant.js"
import type * as TokenStore from "../TokenStore.js"
import { keyString, parseKeyString } from "../TokenStore.js"
import { TokenStoreError } from "../VedAuthError.js"
import { defaultLockOptions, type LockOptions, makeFileLock } from "./fileLock.js"
import { randomHex } from "./random.js"

/** @internal */
export const fileFormat = "vedauth-token-store"
/** @internal */
export const fileVersion = 1

/**
 * Options of the file store.
 *
 * @internal
 */
export interface FileStoreOptions extends Partial<LockOptions> {
  readonly path: string
}

type Entries = Readonly<Record<string, unknown>>

const decodeGrant = Schema.decodeUnknown(Grant)
const encodeGrant = Schema.encode(Grant)

/**
 * Parses the file's text. Anything that is not our format is refused with a message that says what
 * to do, so that a grant in a file we do not understand is never overwritten.
 *
 * @internal
 */
export const parseFile = (text: string): Parsed<Entries, string> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    return { ok: false, error: "the token store is corrupt (not JSON); move it aside to start afresh" }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ok: false, error: "the token store is not a JSON object; move it aside to start afresh" }
  }
  const record = json as Record<string, unknown>
  if (record.format !== fileFormat) {
    return { ok: false, error: `the file is not a vedauth token store (no "format": "${fileFormat}"); refusing to touch it` }
  }
  if (record.version !== fileVersion) {
    return {
      ok: false,
      error: `the token store has format version ${String(record.version)}, this vedauth reads version ${fileVersion}; refusing to overwrite it`
    }
  }
  const grants = record.grants
  if (typeof grants !== "object" || grants === null || Array.isArray(grants)) {
    return { ok: false, error: "the token store has no \"grants\" object; move it aside to start afresh" }
  }
  return { ok: true, value: grants as Entries }
}

type Parsed<A, E> = { readonly ok: true; readonly value: A } | { readonly ok: false; readonly error: E }

/**
 * The token store in one JSON file: `{"format":"vedauth-token-store","version":1,"grants":{...}}`,
 * mode 0600 in a 0700 folder, replaced atomically (temp file in the same folder, then rename), and a
 * lock file beside it so that processes sharing the file take turns.
 *
 * @internal
 */
export const makeFile = (options: FileStoreOptions) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const file = path.resolve(options.path)
    const folder = path.dirname(file)
    const fail = (detail: string) => new TokenStoreError({ detail, path: file })
    const systemFailure = (doing: string) => (error: PlatformError) => fail(`cannot ${doing} the token store: ${error.message}`)

    const ensureFolder = fs.makeDirectory(folder, { recursive: true, mode: 0o700 }).pipe(
      Effect.mapError(systemFailure("create the folder of"))
    )

    const lock = makeFileLock(fs, `${file}.lock`, {
      staleAfter: options.staleAfter ?? defaultLockOptions.staleAfter,
      timeout: options.timeout ?? defaultLockOptions.timeout,
      pollInterval: options.pollInterval ?? defaultLockOptions.pollInterval
    })
    const locked = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.zipRight(ensureFolder, lock.run(effect))

    // Suspended: a FileSystem may do its work when called rather than when run.
    const readEntries: Effect.Effect<Entries, TokenStoreError> = Effect.suspend(() => fs.readFileString(file)).pipe(
      Effect.map(Option.some),
      Effect.catchIf((e) => e._tag === "SystemError" && e.reason === "NotFound", () => Effect.succeedNone),
      Effect.mapError(systemFailure("read")),
      Effect.flatMap((text: Option.Option<string>) => {
        if (Option.isNone(text)) return Effect.succeed<Entries>({})
        const parsed = parseFile(text.value)
        return parsed.ok ? Effect.succeed(parsed.value) : Effect.fail(fail(parsed.error))
      })
    )

    const writeEntries = (grants: Entries) =>
      Effect.gen(function*() {
        const text = JSON.stringify({ format: fileFormat, version: fileVersion, grants }, null, 2) + "\n"
        const temp = path.join(folder, `.${path.basename(file)}.${randomHex(8)}.tmp`)
        yield* Effect.gen(function*() {
          yield* fs.writeFileString(temp, text, { flag: "wx", mode: 0o600 })
          // The mode given at creation passes through the umask; make it exactly 0600.
          yield* fs.chmod(temp, 0o600)
          yield* fs.rename(temp, file)
        }).pipe(
          Effect.mapError(systemFailure("write")),
          Effect.onError(() => Effect.ignore(fs.remove(temp)))
        )
      })

    const update = (f: (grants: Entries) => Effect.Effect<Entries, TokenStoreError>) =>
      locked(
        readEntries.pipe(
          Effect.flatMap(f),
          // `withLock` may have been held for a while: write only if the lock is still ours.
          Effect.tap(() => lock.verifyHeld),
          Effect.flatMap(writeEntries)
        )
      )

    const decodeEntry = (entry: unknown) =>
      decodeGrant(entry).pipe(
        Effect.mapError(() => fail("a grant in the token store does not decode; move the file aside to start afresh"))
      )

    const service: TokenStore.Service = {
      get: (key) =>
        Effect.flatMap(readEntries, (grants) => {
          const entry = grants[keyString(key)]
          return entry === undefined
            ? Effect.succeedNone
            : Effect.map(decodeEntry(entry), Option.some)
        }),
      list: Effect.flatMap(readEntries, (grants) =>
        Effect.forEach(Object.entries(grants), ([text, entry]) =>
          Option.match(parseKeyString(text), {
            onNone: () => Effect.fail(fail("a key in the token store is not one of ours; move the file aside to start afresh")),
            onSome: (key) => Effect.map(decodeEntry(entry), (grant) => ({ key, grant }))
          }))),
      set: (key, grant) =>
        update((grants) =>
          encodeGrant(grant).pipe(
            Effect.map((encoded) => ({ ...grants, [keyString(key)]: encoded })),
            Effect.mapError(() => fail("the grant cannot be encoded for the token store"))
          )
        ),
      remove: (key) =>
        update((grants) => {
          const { [keyString(key)]: _removed, ...rest } = grants
          return Effect.succeed(rest)
        }),
      withLock: (_key, effect) => locked(effect)
    }
    return service
  })
