// `pnpm bench:replicas`: bundles packages/store-redis/bench/main.ts and the replica program with esbuild
// and runs main (needs Debian's redis-server, see scripts/system-deps.sh). Figures for docs/scale-out.md.
import { runBundled } from "./bundled.mjs"

process.exitCode = await runBundled({
  entries: ["packages/store-redis/bench/main.ts", "packages/store-redis/bench/replica.ts"],
  prefix: "vedauth-bench-replicas-",
  args: process.argv.slice(2),
  // ioredis is CommonJS and requires Node's modules: give the ESM bundle a require.
  banner: "import { createRequire as __replicaRequire } from 'node:module'; const require = __replicaRequire(import.meta.url);"
})
