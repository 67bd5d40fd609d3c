// `pnpm bench:kerberos [--quick] [--json]`: bundles scripts/bench-kerberos/main.ts and its child
// entry (server.ts: the simulators and their KDCs in a process of their own) with esbuild and runs
// main. Needs MIT's kinit and curl (scripts/system-deps.sh). Figures for docs/benchmarks.md.
import { runBundled } from "./bundled.mjs"

process.exitCode = await runBundled({
  entries: ["scripts/bench-kerberos/main.ts", "scripts/bench-kerberos/server.ts"],
  prefix: "vedauth-bench-kerberos-",
  args: process.argv.slice(2)
})
