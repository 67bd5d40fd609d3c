/**
 * The CLI commands of `docs/grants/*.md` run as written: each page's `sh` blocks as one bash script,
 * in a folder of its own, with `vedauth` the built executable, against the `vedauth simulate --tls`
 * the page itself starts.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { bin, collect } from "./support/runCli.js"

const grants = fileURLToPath(new URL("../../../docs/grants/", import.meta.url))

const shBlocks = (page: string): ReadonlyArray<string> =>
  Array.from(readFileSync(`${grants}${page}`, "utf8").matchAll(/```sh\n([\s\S]*?)```/g), (match) => match[1]!)

// The page's blocks in order, under `set -euo pipefail`; whatever they start in the background ends with them.
const runPage = (page: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-grant-docs-" })
    yield* fs.makeDirectory(`${dir}/.bin`)
    yield* fs.writeFileString(`${dir}/.bin/vedauth`, `#!/bin/sh\nexec "${process.execPath}" "${bin}" "$@"\n`, {
      mode: 0o755
    })
    const blocks = shBlocks(page)
    assert.strictEqual(blocks.length, 1, `${page} has one runnable block`)
    const script = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT", ...blocks].join("\n")
    return yield* collect("bash", ["-c", script], {
      cwd: dir,
      env: { PATH: `${dir}/.bin:${process.env["PATH"] ?? ""}`, HOME: dir }
    })
  })

describe("docs/grants: the CLI against `vedauth simulate --tls`, as written", () => {
  for (const page of ["password.md", "certificate.md", "jwt.md", "device.md"]) {
    it.scopedLive(page, () =>
      Effect.gen(function*() {
        const run = yield* runPage(page)
        assert.strictEqual(run.code, 0, run.stderr)
        // login's summary, then the token alone on its line.
        assert.match(run.stdout, /^identity {4}AD\+corp:/m)
        assert.match(run.stdout, /\n[A-Za-z0-9+/]{20,}==\n$/)
      }).pipe(Effect.provide(NodeFileSystem.layer)))
  }
})
