// The built client under Deno and Bun, as their users run it: a plain .mjs program that imports the
// bundle, gets a token from the simulator over HTTPS (its CA through `caFile`) and closes.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { clientOptions, run, serve, tempDir } from "./support.js"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const bundle = join(root, "packages", "client", "dist", "index.mjs")
const bin = (name: string) => join(root, "node_modules", ".bin", name)

const program = `import { VedAuthClient } from ${JSON.stringify(bundle)}
const client = new VedAuthClient(JSON.parse(process.env.CLIENT_OPTIONS))
try {
  const token = await client.accessToken()
  const grant = await client.grant()
  console.log(\`token \${token.length > 0}, scope \${grant.scope}\`)
} finally {
  await client.close()
}
`

describe("the built client under other runtimes", () => {
  for (const [runtime, args] of [["bun", ["run"]], ["deno", ["run", "--allow-all"]]] as const) {
    it.scopedLive(`${runtime}: a token from the simulator over HTTPS`, () =>
      Effect.gen(function*() {
        execFileSync(process.execPath, ["scripts/build-client.mjs"], { cwd: root, stdio: "ignore" })
        const dir = yield* tempDir("vedauth-client-runtime-")
        const served = yield* serve(dir)
        writeFileSync(join(dir, "program.mjs"), program)
        const output = yield* run(bin(runtime), [...args, join(dir, "program.mjs")], {
          cwd: dir,
          env: {
            PATH: process.env["PATH"] ?? "",
            HOME: dir,
            CLIENT_OPTIONS: JSON.stringify(clientOptions(served.url, dir))
          },
          timeout: 60_000
        })
        assert.strictEqual(output.code, 0, output.stderr)
        assert.strictEqual(output.stdout.trim(), "token true, scope certificate:manage")
      }), 90_000)
  }
})
