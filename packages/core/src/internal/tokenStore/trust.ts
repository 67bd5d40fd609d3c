/**
 * Whether the store's folder and file may be trusted: a token in a file another user could have
 * written is one they could have planted, and a folder they can write to lets them swap the file.
 * The same rules as OpenSSH's StrictModes, applied through `lstat`/`fstat` facts.
 * @internal
 */
import { Effect, Option } from "effect"
import type * as TokenStoreFiles from "../../TokenStoreFiles.js"
import { TokenStoreError } from "../../VedAuthError.js"

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`
const writableByOthers = (mode: number) => (mode & 0o022) !== 0
const readableByOthers = (mode: number) => (mode & 0o044) !== 0

const ownerProblem = (
  files: TokenStoreFiles.Service,
  info: TokenStoreFiles.Info,
  rootMayOwn: boolean
): string | undefined => {
  if (Option.isNone(files.uid) || Option.isNone(info.uid)) return undefined
  const owner = info.uid.value
  if (owner === files.uid.value || (rootMayOwn && owner === 0)) return undefined
  return `it is owned by user id ${owner}, not by you (user id ${files.uid.value})`
}

/**
 * The folder must be a real folder (not a symbolic link), owned by us or root, and not writable
 * by group or others.
 *
 * @internal
 */
export const checkFolder = (files: TokenStoreFiles.Service, folder: string, info: TokenStoreFiles.Info) => {
  const fail = (detail: string) =>
    Effect.fail(new TokenStoreError({ detail: `the token store's folder cannot be trusted: ${detail}`, path: folder }))
  if (info.type !== "Directory") {
    return fail(`it is a ${info.type}, not a folder; point VEDAUTH_TOKEN_STORE at a file in a folder of your own`)
  }
  const owner = ownerProblem(files, info, true)
  if (owner !== undefined) return fail(`${owner}; keep the store in a folder of your own`)
  if (Option.isSome(files.uid) && writableByOthers(info.mode)) {
    return fail(
      `it is writable by group or others (mode ${octal(info.mode)}), who could replace the store; run chmod 700 on it`
    )
  }
  return Effect.void
}

/**
 * The file must be ours and not writable by group or others; one only readable by others (0644,
 * e.g. copied in by hand) is tightened to 0600 with a warning, as nobody could have planted it.
 *
 * @internal
 */
export const checkFile = (files: TokenStoreFiles.Service, file: string, info: TokenStoreFiles.Info) => {
  const fail = (detail: string) =>
    Effect.fail(new TokenStoreError({ detail: `the token store cannot be trusted: ${detail}`, path: file }))
  const owner = ownerProblem(files, info, false)
  if (owner !== undefined) {
    return fail(`${owner}, so its tokens may have been planted; remove it (vedauth will log in afresh)`)
  }
  if (Option.isNone(files.uid)) return Effect.void
  if (writableByOthers(info.mode)) {
    return fail(
      `it is writable by group or others (mode ${octal(info.mode)}), so its tokens may have been planted; remove it`
    )
  }
  if (readableByOthers(info.mode)) {
    return files.restrictMode(file, 0o600).pipe(
      Effect.zipRight(
        Effect.logWarning(
          `vedauth: the token store was readable by others (mode ${octal(info.mode)}); it is now 0600: ${file}`
        )
      )
    )
  }
  return Effect.void
}
