// `pnpm sim-memory [grants] [maxGrants]`: the simulator's memory under a flood of password grants
// (scripts/sim-memory/main.ts), under --expose-gc so the figures follow a full collection.
import { runBundled } from "./bundled.mjs"

process.exitCode = await runBundled({
  entries: ["scripts/sim-memory/main.ts"],
  prefix: "vedauth-sim-memory-",
  args: process.argv.slice(2),
  nodeArgs: ["--expose-gc"]
})
