// `pnpm bench [--quick] [--json]`: bundles scripts/bench/main.ts with esbuild (the workspace's
// packages export TypeScript sources) into a temporary file and runs it. The peers (axios-ntlm,
// httpntlm) and autocannon stay external: they are loaded from node_modules as their users would.
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const dir = mkdtempSync(join(tmpdir(), "vedauth-bench-"))
const outfile = join(dir, "bench.mjs")
try {
  await build({
    entryPoints: ["scripts/bench/main.ts"],
    outfile,
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
  const run = spawnSync(process.execPath, [outfile, ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, VEDAUTH_BENCH_ROOT: process.cwd(), VEDAUTH_BENCH_BUNDLE: outfile }
  })
  process.exitCode = run.status ?? 1
} finally {
  rmSync(dir, { recursive: true, force: true })
}
