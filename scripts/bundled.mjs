// Runs TypeScript entries of this workspace (its packages export TypeScript sources): bundles them
// with esbuild into a temporary folder, runs the first one with node, and removes the folder. Used
// by `pnpm bench` (whose child processes are further entries) and `pnpm sim-memory`.
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, extname, join } from "node:path"

export const runBundled = async ({ entries, prefix, args = [], nodeArgs = [], external = [], banner, env }) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const main = join(dir, `${basename(entries[0], extname(entries[0]))}.mjs`)
  try {
    await build({
      entryPoints: entries,
      outdir: dir,
      // .js in a folder without a package.json would be CommonJS to Node: name the outputs .mjs.
      outExtension: { ".js": ".mjs" },
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      nodePaths: ["packages/testing/node_modules", "node_modules"],
      // The simulator is not a dependency of anything at the root: point at its sources.
      alias: { "@vedauth/testing": "./packages/testing/src" },
      external,
      ...(banner === undefined ? {} : { banner: { js: banner } }),
      logLevel: "warning"
    })
    const run = spawnSync(process.execPath, [...nodeArgs, main, ...args], {
      stdio: "inherit",
      env: { ...process.env, ...(env === undefined ? {} : env(dir)) }
    })
    return run.status ?? 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
