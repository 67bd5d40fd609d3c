/**
 * Every file the CLI writes itself (profiles, `simulate --cert-out`) goes through here: written to a
 * new file created exclusively (never through a planted symlink), then renamed over the target,
 * which is refused when it exists and is not the user's own regular file.
 * @internal
 */
import { randomBytes } from "node:crypto"
import { chmodSync, lstatSync, mkdirSync, renameSync, rmSync, type Stats, writeFileSync } from "node:fs"
import { basename, dirname, join } from "node:path"

/** Why a file was not written: a sentence. @internal */
export class RefusedWrite extends Error {}

const existing = (path: string): Stats | undefined => {
  try {
    return lstatSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw error
  }
}

/**
 * Writes `text` to `path` with `mode` (0600 by default), creating its folder with mode 0700.
 * @internal
 */
export const writeOwnFile = (
  path: string,
  text: string | Uint8Array,
  options: { readonly mode?: number } = {}
): void => {
  const mode = options.mode ?? 0o600
  const found = existing(path)
  if (found !== undefined) {
    if (found.isSymbolicLink()) throw new RefusedWrite(`${path} is a symbolic link; refusing to write through it`)
    if (!found.isFile()) throw new RefusedWrite(`${path} exists and is not a regular file; refusing to replace it`)
    const uid = process.getuid?.()
    if (uid !== undefined && found.uid !== uid) {
      throw new RefusedWrite(`${path} belongs to another user; refusing to replace it`)
    }
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`)
  writeFileSync(temp, text, { flag: "wx", mode })
  try {
    // The mode given at creation passes through the umask; make it exact.
    chmodSync(temp, mode)
    // rename replaces whatever is at `path` (a symlink planted since the check included), never its target.
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}
