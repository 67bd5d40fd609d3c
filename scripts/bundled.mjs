// Runs a TypeScript entry of this workspace (its packages export TypeScript sources): bundles it
// with esbuild into a temporary folder, runs it with node, and removes the folder. Used by
// `pnpm bench` and `pnpm sim-memory`.
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const runBundled = async ({ entry, prefix, args = [], nodeArgs = [], external = [], banner, env }) => {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  const outfile = join(dir, "main.mjs")
  try {
    await build({
      entryPoints: [entry],
      outfile,
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
    const run = spawnSync(process.execPath, [...nodeArgs, outfile, ...args], {
      stdio: "inherit",
      env: { ...process.env, ...(env === undefined ? {} : env(outfile)) }
    })
    return run.status ?? 1
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
