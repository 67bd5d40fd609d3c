// Builds and packs every publishable package with pnpm (which writes publishConfig into the packed
// manifest and replaces workspace: ranges), and reads each tarball back: size, file count, manifest.
import { readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import { run, tail } from "./run.mjs"

/** Publishable packages, in dependency order. */
export const packageDirs = ["winauth", "core", "platform-node", "platform-deno", "testing", "store-redis", "client", "cli"]

const listTarball = async (file) => {
  const listing = await run("tar", ["-tzvf", file])
  const rows = listing.stdout.trim().split("\n").filter((row) => !row.endsWith("/"))
  // GNU tar -v: "mode owner/group size date time path"
  const files = rows.map((row) => {
    const fields = row.trim().split(/\s+/)
    return { path: fields.slice(5).join(" "), size: Number(fields[2]) }
  })
  const manifest = JSON.parse((await run("tar", ["-xzOf", file, "package/package.json"])).stdout)
  return { files, manifest }
}

/** `pnpm build`, then `pnpm pack` of each package into `destination`. Throws when either fails. */
export const packAll = async (root, destination) => {
  const build = await run("pnpm", ["-s", "build"], { cwd: root })
  if (build.code !== 0) throw new Error(`pnpm build failed:\n${tail(build)}`)
  const packed = []
  for (const dir of packageDirs) {
    const cwd = join(root, "packages", dir)
    const result = await run("pnpm", ["pack", "--json", "--pack-destination", destination], { cwd })
    if (result.code !== 0) throw new Error(`pnpm pack failed in packages/${dir}:\n${tail(result)}`)
    // The prepack script's banner comes first on stdout; the JSON report starts at a line of its own.
    const { filename } = JSON.parse(result.stdout.slice(result.stdout.search(/^\{/m)))
    const { files, manifest } = await listTarball(filename)
    const source = JSON.parse(readFileSync(join(cwd, "package.json"), "utf8"))
    packed.push({
      dir,
      name: manifest.name,
      file: filename,
      bytes: statSync(filename).size,
      unpackedBytes: files.reduce((sum, f) => sum + f.size, 0),
      files: files.map((f) => f.path.replace(/^package\//, "")),
      manifest,
      source
    })
  }
  return packed
}
