import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { bin, collect } from "./support/runCli.js"

const root = fileURLToPath(new URL("../../..", import.meta.url))

// The ```sh blocks of a document that use vedauth (not the set-up and install lines).
const snippets = (document: string): ReadonlyArray<string> =>
  Array.from(readFileSync(`${root}/${document}`, "utf8").matchAll(/```sh\n([\s\S]*?)```/g), (match) => match[1]!)
    .filter((block) => block.includes("vedauth") && !block.includes("npm i"))

// Runs the blocks as one bash script from `cwd` (an empty folder), with HOME there and `vedauth` on
// PATH as npm installs it: a symbolic link to the executable bundle, in a folder of its own outside
// `cwd` (so `$!` of `vedauth ... &` is the command's own process). `after` runs once they are done.
const runScript = (
  blocks: ReadonlyArray<string>,
  cwd: string,
  env: Record<string, string>,
  after: ReadonlyArray<string> = []
) =>
  Effect.suspend(() => {
    const binDir = `${cwd}.bin`
    mkdirSync(binDir)
    symlinkSync(bin, `${binDir}/vedauth`)
    // Whatever the blocks started in the background ends with them, even when one fails.
    const script = [
      "set -euo pipefail",
      "trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf \"$0\"' EXIT",
      ...blocks,
      ...after
    ].join("\n")
    return collect("bash", ["-c", script, binDir], {
      cwd,
      env: { PATH: `${binDir}:${process.env["PATH"] ?? ""}`, HOME: cwd, ...env }
    })
  })

describe("the documented snippets run as written", () => {
  it.scopedLive("README: login with flags, then curl with $(vedauth token) and no options", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-readme-" })
      const served = yield* Simulator.serve({
        protocol: "https",
        caPemPath: `${dir}/ca.pem`,
        integrations: [{ clientId: "my-app" }]
      })
      yield* fs.writeFileString(`${dir}/password.txt`, `${Redacted.value(Simulator.defaultCredentials.password)}\n`)
      const blocks = snippets("README.md")
      assert.strictEqual(blocks.length, 1)
      // The one change: the simulator stands in for tpp.example.com, its CA trusted as a user's CA would be.
      const run = yield* runScript(
        blocks.map((block) => block.replaceAll("https://tpp.example.com", served.url)),
        dir,
        {
          VEDAUTH_CA_FILE: `${dir}/ca.pem`,
          CURL_CA_BUNDLE: `${dir}/ca.pem`
        }
      )
      assert.strictEqual(run.code, 0, run.stderr)
      assert.include(run.stdout, "identity    AD+corp:")
      assert.include(run.stdout, "\"Certificates\"")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("docs/cli.md: the example session, simulator and all", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-docs-" })
      const blocks = snippets("docs/cli.md")
      assert.strictEqual(blocks.length, 3)
      assert.notInclude(blocks.join("\n"), "pnpm", "the installed command, as a user outside the repository has it")
      assert.deepStrictEqual(readdirSync(dir), [], "an empty folder")
      // `kill "$simulator"` stopped the simulator itself: it exits, and its port answers no more.
      const run = yield* runScript(blocks, dir, {}, [
        "wait \"$simulator\" || true",
        "! curl -s -o /dev/null --cacert tpp.pem \"$(cat simulator.url)\""
      ])
      assert.strictEqual(run.code, 0, run.stderr)
      assert.include(run.stdout, "\"Certificates\"")
      assert.match(run.stdout, /valid {7}yes, for /)
      assert.match(run.stdout, /token store .*; current profile: default\n\n\* server {6}https:\/\/127\.0\.0\.1:/)
      assert.match(
        run.stderr,
        /logged out corp\\alice at https:\/\/127\.0\.0\.1:\d+ \(vedauth-demo, certificate:manage\): revoked/
      )
      assert.include(run.stdout, "\"grants\":[]")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
