/**
 * Reads a file of the user's own state (the token store on the lean `token` path, the profiles) by
 * the token store's trust rules, in plain Node (the lean path loads no Effect): the folder is a real
 * folder owned by the user or root and not writable by group or others; the file is opened without
 * following a symbolic link and without blocking (a FIFO would hang the open), then checked through
 * its descriptor: a regular file, owned by the user, not writable by group or others, not too large.
 * @internal
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from "node:fs"
import { dirname } from "node:path"

/** The file's text; `missing` when there is none; `refused` with the reason otherwise. @internal */
export type TrustedRead =
  | { readonly _tag: "Text"; readonly text: string; readonly readableByOthers: boolean }
  | { readonly _tag: "Missing" }
  | { readonly _tag: "Refused"; readonly reason: string }

const maxBytes = 4 * 1024 * 1024
const writableByOthers = (mode: number) => (mode & 0o022) !== 0
const refused = (reason: string): TrustedRead => ({ _tag: "Refused", reason })
const code = (error: unknown) => (error as NodeJS.ErrnoException).code

const folderProblem = (folder: string, uid: number | undefined): string | undefined => {
  const info = lstatSync(folder)
  if (!info.isDirectory()) return `${folder} is not a folder`
  if (uid === undefined) return undefined
  if (info.uid !== uid && info.uid !== 0) return `${folder} belongs to another user`
  return writableByOthers(info.mode) ? `${folder} is writable by group or others` : undefined
}

const readAll = (fd: number, size: number): string => {
  const buffer = Buffer.alloc(size)
  let filled = 0
  while (filled < size) {
    const read = readSync(fd, buffer, filled, size - filled, filled)
    if (read === 0) break
    filled += read
  }
  return buffer.subarray(0, filled).toString("utf8")
}

/** @internal */
export const readTrustedFile = (path: string): TrustedRead => {
  const uid = process.getuid?.()
  try {
    const folder = folderProblem(dirname(path), uid)
    if (folder !== undefined) return refused(folder)
  } catch (error) {
    return code(error) === "ENOENT" ? { _tag: "Missing" } : refused(`${dirname(path)}: ${code(error) ?? "unreadable"}`)
  }
  let fd: number
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (error) {
    if (code(error) === "ENOENT") return { _tag: "Missing" }
    return refused(code(error) === "ELOOP" ? `${path} is a symbolic link` : `${path}: ${code(error) ?? "unreadable"}`)
  }
  try {
    const info = fstatSync(fd)
    if (!info.isFile()) return refused(`${path} is not a regular file`)
    if (uid !== undefined && info.uid !== uid) return refused(`${path} belongs to another user`)
    if (uid !== undefined && writableByOthers(info.mode)) return refused(`${path} is writable by group or others`)
    if (info.size > maxBytes) return refused(`${path} is larger than ${maxBytes} bytes`)
    return { _tag: "Text", text: readAll(fd, info.size), readableByOthers: (info.mode & 0o044) !== 0 }
  } finally {
    closeSync(fd)
  }
}
