// `pnpm test:all`: everything CI runs, in order, stopping at the first failure. The benchmark runs
// first (it is not a test), so the log closes with the test totals: each runner's own
// `N passed, N failed` line, then one line for all of them together.
import { spawn } from "node:child_process"

const steps = [
  { name: "system packages", command: "bash", args: ["scripts/system-deps.sh"] },
  // The optional kerberos addon, built from source here rather than at install (see the script).
  { name: "kerberos addon", command: "node", args: ["scripts/kerberos-addon.mjs"] },
  { name: "typecheck", command: "pnpm", args: ["-s", "typecheck"] },
  { name: "lint", command: "pnpm", args: ["-s", "lint"] },
  { name: "bench --quick", command: "pnpm", args: ["-s", "bench", "--quick"] },
  { name: "vitest", command: "pnpm", args: ["-s", "test"], counts: true },
  { name: "deno", command: "pnpm", args: ["-s", "test:deno"], counts: true },
  { name: "bun", command: "pnpm", args: ["-s", "test:bun"], counts: true },
  // Pack, check and install the tarballs as a user would; run the documented programs on every Node line.
  { name: "release check", command: "node", args: ["scripts/release-check.mjs", "--node-lines"], counts: true },
  { name: "node matrix", command: "pnpm", args: ["-s", "test:node-matrix"], counts: true }
]

const run = (step) =>
  new Promise((resolve) => {
    let output = ""
    const child = spawn(step.command, step.args, { stdio: ["ignore", "pipe", "inherit"] })
    child.stdout.on("data", (chunk) => {
      output += chunk
      process.stdout.write(chunk)
    })
    child.on("close", (code) => resolve({ code: code ?? 1, output }))
  })

let passed = 0
let failed = 0
for (const step of steps) {
  const { code, output } = await run(step)
  if (step.counts) {
    const last = [...output.matchAll(/^(?:[\w-]+: )?(\d+) passed, (\d+) failed/gm)].at(-1)
    passed += Number(last?.[1] ?? 0)
    failed += Number(last?.[2] ?? (code === 0 ? 0 : 1))
  }
  if (code !== 0) {
    console.error(`test:all: ${step.name} failed (exit ${code})`)
    console.log(`all: ${passed} passed, ${Math.max(failed, 1)} failed`)
    process.exit(code)
  }
}
console.log(`all: ${passed} passed, ${failed} failed`)
