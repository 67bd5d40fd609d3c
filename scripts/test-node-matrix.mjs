#!/usr/bin/env node
// `pnpm test:node-matrix`: the vitest projects on every supported Node line (22, 24, 26: see
// node-lines.mjs) besides the machine's own, one line after another (two cores), with the terse
// dot reporter. Each line ends with `node vX vitest: N passed, N failed`; the last line totals them.
import { spawn } from "node:child_process"
import { mkdirSync, readFileSync, rmSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { ensureNode, nodeLines } from "./node-lines.mjs"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const vitest = join(root, "node_modules", "vitest", "vitest.mjs")

const runVitest = (node, results) =>
  new Promise((resolve) => {
    const args = [vitest, "run", "--reporter=dot", "--reporter=json", `--outputFile.json=${results}`]
    // PATH first: anything the tests start as `node` is the line under test too.
    const env = { ...process.env, PATH: `${dirname(node)}:${process.env.PATH}` }
    const child = spawn(node, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] })
    child.on("error", () => resolve(1))
    child.on("close", (code) => resolve(code ?? 1))
  })

let passed = 0
let failed = 0
mkdirSync(join(root, ".vitest"), { recursive: true })
for (const [line, version] of Object.entries(nodeLines)) {
  let node
  try {
    node = await ensureNode(root, version)
  } catch (error) {
    console.log(`node ${version}: ${error.message}\nnode v${version} vitest: 0 passed, 1 failed`)
    failed++
    continue
  }
  const results = join(root, ".vitest", `results-node${line}.json`)
  rmSync(results, { force: true })
  const started = Date.now()
  const code = await runVitest(node, results)
  let summary = { numPassedTests: 0, numFailedTests: 1 }
  try {
    summary = JSON.parse(readFileSync(results, "utf8"))
  } catch {
    // no results: the run did not get as far as writing them; counted as one failure
  }
  const lineFailed = summary.numFailedTests + (code !== 0 && summary.numFailedTests === 0 ? 1 : 0)
  passed += summary.numPassedTests
  failed += lineFailed
  console.log(`node v${version} vitest: ${summary.numPassedTests} passed, ${lineFailed} failed (${((Date.now() - started) / 1000).toFixed(0)} s)`)
}
console.log(`node-matrix: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
