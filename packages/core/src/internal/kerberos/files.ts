/**
 * The keytab and the `FILE:` credential cache on disk, through the one hardened reader
 * (`LocalFiles`): a cache must be ours (another user's cache would log us in as them) and is never
 * opened through a link; it is written back only into a folder that is ours alone, atomically,
 * leaving no temporary file behind on any failure.
 * @internal
 */
import { CredentialCache } from "@vedauth/winauth"
import { Effect, Option } from "effect"
import * as LocalFiles from "../../LocalFiles.js"
import { TokenStoreFiles } from "../../TokenStoreFiles.js"
import { KerberosError } from "../../VedAuthError.js"
import { step } from "./failures.js"

const asKerberosError = (prefix: "KEYTAB" | "CCACHE") => (error: LocalFiles.LocalFileError) =>
  new KerberosError({
    reason: `${prefix}_${error.reason === "Untrusted" ? "UNTRUSTED" : "UNREADABLE"}`,
    detail: error.message
  })

/** A keytab's bytes; a missing file is an error (it was named). @internal */
export const readKeytabBytes = (path: string) =>
  LocalFiles.read(path, "keytab").pipe(
    Effect.flatMap(Option.match({
      onNone: () =>
        Effect.fail(
          new LocalFiles.LocalFileError({
            reason: "Unreadable",
            what: LocalFiles.rules.keytab.what,
            path,
            detail: "it does not exist"
          })
        ),
      onSome: Effect.succeed
    })),
    Effect.mapError(asKerberosError("KEYTAB"))
  )

/** A credential cache, `None` when there is none; one that is not ours or does not decode is an error. @internal */
export const readCache = (path: string) =>
  LocalFiles.read(path, "credentialCache").pipe(
    Effect.mapError(asKerberosError("CCACHE")),
    Effect.flatMap(Option.match({
      onNone: () => Effect.succeedNone,
      onSome: (bytes) => Effect.map(step(() => CredentialCache.decode(bytes, path)), Option.some)
    }))
  )

const folderOf = (path: string) => {
  const slash = path.lastIndexOf("/")
  return slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash)
}

// Ours alone: a real folder we own that nobody else may write into (the sticky, world-writable /tmp
// is not: another user could race us there), so nothing can be planted beside the cache.
const folderIsOurs = (folder: string) =>
  Effect.flatMap(
    TokenStoreFiles,
    (files) =>
      Effect.map(files.lstat(folder), (info) =>
        Option.isSome(info) && info.value.type === "Directory" &&
        (Option.isNone(files.uid) || Option.isNone(info.value.uid) ||
          (info.value.uid.value === files.uid.value && (info.value.mode & 0o022) === 0)))
  )

/**
 * Writes the cache back when its folder is ours alone; else leaves it as it is (the tickets just
 * got are used, and the next run asks the KDC again), saying so at debug level.
 * @internal
 */
export const writeCache = (path: string, cache: CredentialCache.CredentialCache) =>
  Effect.gen(function*() {
    const folder = folderOf(path)
    if (!(yield* folderIsOurs(folder))) {
      return yield* Effect.logDebug(
        `vedauth: ${folder} is not a folder of yours alone; the new ticket is not written back to ${path}`
      )
    }
    const temp = `${path}.vedauth-${crypto.getRandomValues(new Uint32Array(1))[0]!.toString(16)}`
    yield* LocalFiles.replace(path, temp, CredentialCache.encode(cache), () =>
      new KerberosError({ reason: "CCACHE_UNWRITABLE", detail: `${temp} exists already; try again` }))
  }).pipe(Effect.catchTag("TokenStoreError", (e) =>
    Effect.fail(new KerberosError({ reason: "CCACHE_UNWRITABLE", detail: `${path}: ${e.detail}` }))))
