// `pnpm bench [--quick] [--json]`: bundles scripts/bench/main.ts with esbuild (the workspace's
// packages export TypeScript sources) into a temporary file and runs it. The peers (axios-ntlm,
// httpntlm) and autocannon stay external: they are loaded from node_modules as their users would.
import { runBundled } from "./bundled.mjs"

process.exitCode = await runBundled({
  entry: "scripts/bench/main.ts",
  prefix: "vedauth-bench-",
  args: process.argv.slice(2),
  external: ["axios-ntlm", "httpntlm", "autocannon"],
  banner: "import { createRequire as __benchRequire } from 'node:module'; const require = __benchRequire(process.env.VEDAUTH_BENCH_ROOT + '/package.json');",
  env: (outfile) => ({ VEDAUTH_BENCH_ROOT: process.cwd(), VEDAUTH_BENCH_BUNDLE: outfile })
})
