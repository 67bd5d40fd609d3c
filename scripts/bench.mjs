// `pnpm bench [--quick] [--json]`: bundles scripts/bench/main.ts and its child processes' entries
// (server.ts, worker.ts) with esbuild and runs main. The peers (axios-ntlm, httpntlm) and autocannon
// stay external: they are loaded from node_modules as their users would.
import { runBundled } from "./bundled.mjs"

process.exitCode = await runBundled({
  entries: ["scripts/bench/main.ts", "scripts/bench/server.ts", "scripts/bench/worker.ts"],
  prefix: "vedauth-bench-",
  args: process.argv.slice(2),
  external: ["axios-ntlm", "httpntlm", "autocannon"],
  banner: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(process.env.VEDAUTH_BENCH_ROOT + '/package.json');",
  env: (dir) => ({ VEDAUTH_BENCH_ROOT: process.cwd(), VEDAUTH_BENCH_DIR: dir })
})
