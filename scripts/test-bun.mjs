#!/usr/bin/env node
// `pnpm test:bun`: the conformance suite under Bun, with the binary the `bun` npm package ships
// (its postinstall puts it in place: `bun` is in pnpm.onlyBuiltDependencies). The runner script
// prints each case and ends with `N passed, N failed`.
import { spawn } from "node:child_process"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const bun = join(root, "node_modules", ".bin", process.platform === "win32" ? "bun.cmd" : "bun")
const child = spawn(bun, ["run", "conformance/bun.ts"], { cwd: join(root, "packages", "platform-deno"), stdio: "inherit" })
child.on("close", (code) => process.exit(code ?? 1))
child.on("error", (error) => {
  console.error(`test-bun: cannot start bun: ${error.message}`)
  console.log("0 passed, 1 failed")
  process.exit(1)
})
