#!/usr/bin/env node
// `pnpm test:deno`: the conformance suite under real `deno test`, with the deno binary that the
// `deno` npm package ships (no download at run time). It type-checks the suite with Deno's own
// TypeScript first (deno test's default), then runs it on DenoVedAuth against the simulator on
// loopback. The last line is `N passed, N failed`.
//
// Guard: when a module fails to resolve, Deno 2.9 "migrates" a nearby pnpm-workspace.yaml by
// rewriting the root package.json (adding `workspaces`). This script puts the file back as it was.
import { spawn } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const rootPackageJson = join(root, "package.json")
const before = readFileSync(rootPackageJson)
const deno = join(root, "node_modules", ".bin", process.platform === "win32" ? "deno.cmd" : "deno")

const args = [
  "test",
  // The workspace's sources import their siblings as `./x.js` while the files are `x.ts`.
  "--unstable-sloppy-imports",
  // Loopback only: the simulator and the clients never leave 127.0.0.1.
  "--allow-net=127.0.0.1,localhost",
  // Temp folders and the token store; the package sources and node_modules.
  "--allow-read",
  "--allow-write",
  // Config (HOME, TMPDIR, VEDAUTH_*) and node:os.
  "--allow-env",
  "--allow-sys",
  "conformance/deno.test.ts"
]

const started = Date.now()
const child = spawn(deno, args, { cwd: join(root, "packages", "platform-deno"), stdio: ["ignore", "pipe", "pipe"] })
let output = ""
child.stdout.on("data", (chunk) => {
  output += chunk
  process.stdout.write(chunk)
})
child.stderr.on("data", (chunk) => {
  output += chunk
  process.stderr.write(chunk)
})
child.on("close", (code, signal) => {
  if (!readFileSync(rootPackageJson).equals(before)) {
    writeFileSync(rootPackageJson, before)
    console.error("test-deno: deno rewrote package.json (its pnpm-workspace migration); restored it")
  }
  // deno test ends with e.g. "ok | 12 passed | 0 failed (1s)".
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\x1b\[[0-9;]*m/g, "")
  const summary = [...plain.matchAll(/(\d+) passed[^|\n]*\| (\d+) failed/g)].at(-1)
  const seconds = ((Date.now() - started) / 1000).toFixed(1)
  console.log(`\ndeno test: ${summary === undefined ? "no summary (the suite did not run)" : "conformance suite"} in ${seconds} s`)
  if (summary === undefined) {
    console.log("0 passed, 1 failed")
    process.exit(1)
  }
  console.log(`${summary[1]} passed, ${summary[2]} failed`)
  process.exit(code ?? (signal === null ? 1 : 1))
})
