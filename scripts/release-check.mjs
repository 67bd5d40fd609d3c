#!/usr/bin/env node
// `pnpm release:check`: what a user and a registry would see. Builds and packs every package, checks
// each tarball (contents, manifest, publint, @arethetypeswrong/cli), then, in a temporary folder
// outside the workspace, installs the tarballs with npm as a user would and runs the README's
// program and getting-started's as plain .mjs on Node against the simulator over HTTPS (with its
// CA), type-checks them as a strict TypeScript consumer, runs a Deno program from that
// node_modules and the README program on Bun, and installs the CLI tarball alone into a fresh
// prefix (and through npx) to run `vedauth demo` (and `vedauth status` on a redis:// store). `--node <path>` (repeatable) runs the Node
// programs on those binaries too; `--node-lines` on every supported line (node-lines.mjs);
// `--out <dir>` keeps a copy of the tarballs there, to install from until they are published.
// The last line is `release-check: N passed, N failed`.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, dirname, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"
import * as consumer from "./release/consumer.mjs"
import { ensureNodeLines } from "./node-lines.mjs"
import * as manifest from "./release/manifest.mjs"
import { packAll } from "./release/pack.mjs"
import { startRedis } from "./release/redis.mjs"
import { run, tail } from "./release/run.mjs"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const bin = (name) => join(root, "node_modules", ".bin", name)
const nodes = [process.execPath]
const withNodeLines = process.argv.includes("--node-lines")
let out
for (let i = 2; i < process.argv.length; i++) {
  if (process.argv[i] === "--node" && process.argv[i + 1] !== undefined) nodes.push(process.argv[++i])
  else if (process.argv[i] === "--out" && process.argv[i + 1] !== undefined) out = resolve(process.argv[++i])
}
const cliBudgetBytes = 10 * 1024 * 1024
const clientBudgetBytes = 300 * 1024

let passed = 0
let failed = 0
/** One check: `body` returns a note (or nothing) when it holds and throws when it does not. */
const check = async (name, body) => {
  try {
    const note = await body()
    passed++
    console.log(`ok   ${name}${note ? ` (${note})` : ""}`)
    return true
  } catch (error) {
    failed++
    console.log(`FAIL ${name}\n${String(error instanceof Error ? error.message : error).replace(/^/gm, "     ")}`)
    return false
  }
}
const expectRun = async (result, pattern) => {
  if (result.code !== 0) throw new Error(`exit ${result.code}\n${tail(result)}`)
  if (pattern !== undefined && !pattern.test(result.stdout)) throw new Error(`output does not match ${pattern}\n${tail(result)}`)
  return result.stdout
}
const kib = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`
const sizeOf = (path) =>
  statSync(path).isDirectory() ? readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0) : statSync(path).size
const versionOf = async (node) => (await run(node, ["--version"])).stdout.trim()

const work = mkdtempSync(join(tmpdir(), "vedauth-release-"))
const project = join(work, "consumer")
const caFile = join(work, "simulator-ca.pem")

if (withNodeLines) {
  await check("the supported Node lines' binaries are at hand", async () => {
    const lines = await ensureNodeLines(root)
    nodes.push(...lines)
    return (await Promise.all(lines.map(versionOf))).join(", ")
  })
}

let packed = []
await check("build and pack every package", async () => {
  packed = await packAll(root, join(work, "tarballs"))
  return packed.map((p) => `${p.name} ${kib(p.bytes)}, ${p.files.length} files, ${kib(p.unpackedBytes)} unpacked`).join("; ")
})
if (out !== undefined && packed.length > 0) {
  await check(`the tarballs are kept in ${out}`, () => {
    mkdirSync(out, { recursive: true })
    for (const p of packed) copyFileSync(p.file, join(out, basename(p.file)))
    return packed.map((p) => basename(p.file)).join(", ")
  })
}
// The Promise client is installed alone, beside Effect 4, by its own test (packages/client/test/Install.test.ts).
const libraries = packed.filter((p) => p.dir !== "cli" && p.dir !== "client")
const cli = packed.find((p) => p.dir === "cli")
const client = packed.find((p) => p.dir === "client")
if (client !== undefined) {
  await check("@vedauth/client: packed under its 300 KiB budget", () => {
    if (client.bytes > clientBudgetBytes) throw new Error(`packed ${kib(client.bytes)}`)
    return `packed ${kib(client.bytes)}, ${kib(client.unpackedBytes)} unpacked`
  })
}

for (const pkg of packed) {
  await check(`${pkg.name}: tarball contents and manifest`, () => {
    const own = pkg === cli ? manifest.cliProblems(pkg) : pkg.dir === "client" ? manifest.clientProblems(pkg) : manifest.libraryProblems(pkg, root)
    const problems = [...manifest.commonProblems(pkg), ...own]
    if (problems.length > 0) throw new Error(problems.join("\n"))
  })
  await check(`${pkg.name}: publint --strict`, async () => void (await expectRun(await run(bin("publint"), ["--strict", pkg.file]))))
  // ESM only, on purpose: the esm-only profile leaves out CommonJS and node10 resolution.
  await check(`${pkg.name}: attw (esm-only profile)`, async () =>
    void (await expectRun(await run(bin("attw"), [pkg.file, "--profile", "esm-only", "--format", "table-flipped"]))))
}

const installed = libraries.length > 0 && await check("npm installs the library tarballs and the peers into a fresh project", async () => {
  await consumer.setUp(root, project, libraries)
  return `${project}: ${consumer.peers.join(", ")}`
})

if (installed) {
  await check("a strict TypeScript consumer type-checks the programs and every entry point (skipLibCheck: false)", async () =>
    void (await expectRun(await run(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", project]))))
  let simulator
  const started = await check("@vedauth/testing serves the simulator over HTTPS from the installed package", async () => {
    simulator = await consumer.startSimulator(project, process.execPath, caFile)
    return simulator.url
  })
  if (started) {
    for (const node of nodes) {
      const version = await versionOf(node)
      const env = (name) => consumer.programEnv(project, simulator.url, caFile, `${version}-${name}`)
      await check(`node ${version}: the README program runs as written (main.mjs)`, async () =>
        void (await expectRun(await run(node, ["main.mjs"], { cwd: project, env: env("readme") }), /^scope certificate:manage, identity AD\+corp:/m)))
      await check(`node ${version}: the getting-started program runs as written`, async () =>
        void (await expectRun(
          await run(node, ["getting-started.mjs"], { cwd: project, env: env("getting-started") }),
          /granted scope 'certificate:manage'[\s\S]*0 certificate\(s\) visible/
        )))
    }
    await check("deno: a program importing npm:@vedauth/core and npm:@vedauth/platform-deno from that node_modules", async () => {
      const args = ["run", "--node-modules-dir=manual", "--allow-net=127.0.0.1", "--allow-env", "--allow-read", "--allow-write", "--allow-sys", "deno-main.mjs"]
      await expectRun(await run(bin("deno"), args, { cwd: project, env: consumer.programEnv(project, simulator.url, caFile, "deno") }), /^deno: scope certificate:manage/m)
      return (await run(bin("deno"), ["--version"])).stdout.split("\n")[0]
    })
    await check("bun: the README program (main.mjs)", async () => {
      await expectRun(await run(bin("bun"), ["main.mjs"], { cwd: project, env: consumer.programEnv(project, simulator.url, caFile, "bun") }), /^scope certificate:manage/m)
      return `bun ${(await run(bin("bun"), ["--version"])).stdout.trim()}`
    })
    await simulator.stop()
  }
}

if (cli !== undefined) {
  const prefix = join(work, "cli-prefix")
  const cliInstalled = await check("the CLI tarball installs alone (npm i -g) into a fresh prefix, nothing else, under 10 MiB", async () => {
    await expectRun(await run("npm", ["install", "-g", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel=error", cli.file]))
    const modules = join(prefix, "lib", "node_modules")
    const names = readdirSync(modules).flatMap((scope) => scope.startsWith("@") ? readdirSync(join(modules, scope)).map((n) => `${scope}/${n}`) : [scope])
    if (names.join() !== "@vedauth/cli") throw new Error(`installed ${names.join(", ")}`)
    const bytes = sizeOf(modules)
    if (bytes > cliBudgetBytes) throw new Error(`installed size ${kib(bytes)} is over the 10 MiB budget`)
    return `installed size ${kib(bytes)}`
  })
  if (cliInstalled) {
    for (const node of nodes) {
      const version = await versionOf(node)
      // `vedauth` is the installed bin (#!/usr/bin/env node): PATH picks the Node under test.
      const env = { ...consumer.programEnv(work, "", "", `cli-${version}`), PATH: `${dirname(node)}:${join(prefix, "bin")}:${process.env.PATH}` }
      await check(`node ${version}: vedauth --version and vedauth demo from the installed CLI`, async () => {
        const shown = (await expectRun(await run("vedauth", ["--version"], { env }))).trim()
        if (shown !== cli.manifest.version) throw new Error(`--version printed '${shown}', the package is ${cli.manifest.version}`)
        await expectRun(await run("vedauth", ["demo"], { env }), /^Done\. The simulator saw/m)
      })
    }
    await check("the installed CLI's Redis store: vedauth status on a redis:// store (a real redis-server on loopback)", async () => {
      const redis = await startRedis(work)
      try {
        const env = { ...process.env, HOME: join(work, "cli-redis-home"), VEDAUTH_TOKEN_STORE: redis.url, PATH: `${join(prefix, "bin")}:${process.env.PATH}` }
        await expectRun(await run("vedauth", ["status"], { env }), /^token store redis:\/\/127\.0\.0\.1:\d+\/0; current profile: none\nno grants stored/)
      } finally {
        await redis.stop()
      }
    })
  }
  await check("npx runs the CLI tarball (empty npm cache: nothing to download)", async () => {
    const env = { ...process.env, npm_config_cache: join(work, "npx-cache"), npm_config_update_notifier: "false" }
    const shown = (await expectRun(await run("npx", ["--yes", `--package=${cli.file}`, "--", "vedauth", "--version"], { cwd: work, env }))).trim()
    if (shown !== cli.manifest.version) throw new Error(`printed '${shown}'`)
  })
}

if (failed === 0) rmSync(work, { recursive: true, force: true })
else console.log(`release-check: the work folder is kept for a look: ${work}`)
console.log(`release-check: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
