// `pnpm bench [--quick] [--json]`: bundles scripts/bench/main.ts and its child processes' entries
// (server.ts, worker.ts) with esbuild (the workspace's packages export TypeScript sources) into a
// temporary folder and runs main.mjs. The peers (axios-ntlm, httpntlm) and autocannon stay
// external: they are loaded from node_modules as their users would.
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const dir = mkdtempSync(join(tmpdir(), "vedauth-bench-"))
try {
  await build({
    entryPoints: ["scripts/bench/main.ts", "scripts/bench/server.ts", "scripts/bench/worker.ts"],
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
    external: ["axios-ntlm", "httpntlm", "autocannon"],
    banner: { js: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(process.env.VEDAUTH_BENCH_ROOT + '/package.json');" },
    logLevel: "warning"
  })
  const run = spawnSync(process.execPath, [join(dir, "main.mjs"), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, VEDAUTH_BENCH_ROOT: process.cwd(), VEDAUTH_BENCH_DIR: dir }
  })
  process.exitCode = run.status ?? 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
