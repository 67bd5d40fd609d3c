// The package as a user gets it: packed, installed with npm alone beside Effect 4 (effect@latest)
// into a fresh project outside the workspace, a plain .mjs program run against the simulator over
// HTTPS, and a strict TypeScript consumer type-checked with only @types/node.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { clientOptions, run, serve, tempDir } from "./support.js"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const packageDir = join(root, "packages", "client")

/** The size budget: the packed tarball, and the package as installed. */
export const budget = { packedBytes: 300 * 1024, installedBytes: 1024 * 1024 }

const sizeOf = (path: string): number =>
  statSync(path).isDirectory()
    ? readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0)
    : statSync(path).size

const program = `import { Effect } from "effect"
import { VedAuthClient } from "@vedauth/client"

const { CLIENT_OPTIONS } = process.env
const client = new VedAuthClient(JSON.parse(CLIENT_OPTIONS))
try {
  const token = await client.accessToken()
  const grant = await client.grant()
  // Effect 4 beside the client's own runtime, in the same process.
  const effect = Effect.runSync(Effect.succeed("effect ok"))
  console.log(\`token \${token.length > 0}, scope \${grant.scope}, \${effect}\`)
} finally {
  await client.close()
}
`

const consumer =
  `import { VedAuthClient, VedAuthClientError, type VedAuthClientOptions, type VedAuthGrant } from "@vedauth/client"

const options: VedAuthClientOptions = { url: "https://tpp.example.com", clientId: "app", scope: "certificate:manage", caFile: "ca.pem" }
export const main = async (signal: AbortSignal): Promise<string> => {
  const client = new VedAuthClient(options)
  try {
    const token: string = await client.accessToken({ signal })
    const grant: VedAuthGrant = await client.grant()
    const response: Response = await client.fetch("vedsdk/certificates/", { method: "GET", signal })
    const revoked = await client.revoke()
    return \`\${token.length} \${grant.expiresAt.toISOString()} \${response.status} \${revoked.outcome}\`
  } catch (error) {
    if (error instanceof VedAuthClientError) return \`\${error._tag} \${error.status ?? ""} \${error.description ?? ""}\`
    throw error
  } finally {
    await client[Symbol.asyncDispose]()
  }
}
export const fromEnv: VedAuthClient = VedAuthClient.fromEnv()
`

const tsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    noEmit: true,
    types: ["node"],
    // The workspace's @types/node: the consumer has nothing else.
    typeRoots: [join(root, "node_modules", "@types")]
  },
  files: ["consumer.ts"]
}

describe("@vedauth/client installed from its tarball", () => {
  it.scopedLive("beside effect@latest: a plain .mjs program gets a token over HTTPS; a strict NodeNext consumer type-checks; within the size budget", () =>
    Effect.gen(function*() {
      const work = yield* tempDir("vedauth-client-install-")
      const packed = yield* run("pnpm", ["pack", "--json", "--pack-destination", work], {
        cwd: packageDir,
        timeout: 120_000
      })
      assert.strictEqual(packed.code, 0, packed.stderr)
      const tarball: string = JSON.parse(packed.stdout.slice(packed.stdout.search(/^\{/m))).filename
      const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"))
      for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
        assert.notOk(
          Object.keys(manifest[field] ?? {}).some((name) => name === "effect" || name.startsWith("@effect/")),
          field
        )
      }

      const project = join(work, "consumer")
      yield* Effect.sync(() => {
        mkdirSync(project)
        writeFileSync(
          join(project, "package.json"),
          JSON.stringify({ name: "consumer", private: true, type: "module" })
        )
        writeFileSync(join(project, "main.mjs"), program)
        writeFileSync(join(project, "consumer.ts"), consumer)
        writeFileSync(join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2))
      })
      const installed = yield* run("npm", [
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        tarball,
        "effect@latest"
      ], { cwd: project, timeout: 180_000 })
      assert.strictEqual(installed.code, 0, installed.stderr)
      const effectVersion: string =
        JSON.parse(readFileSync(join(project, "node_modules", "effect", "package.json"), "utf8")).version
      assert.match(effectVersion, /^4\./)
      // The client brought nothing of its own: no node_modules under it, nothing else of @vedauth.
      assert.deepStrictEqual(readdirSync(join(project, "node_modules", "@vedauth")), ["client"])
      assert.notInclude(readdirSync(join(project, "node_modules", "@vedauth", "client")), "node_modules")

      const served = yield* serve(work)
      const options = clientOptions(served.url, work)
      const ran = yield* run(process.execPath, ["main.mjs"], {
        cwd: project,
        env: { PATH: process.env["PATH"], CLIENT_OPTIONS: JSON.stringify(options) },
        timeout: 60_000
      })
      assert.strictEqual(ran.code, 0, ran.stderr)
      assert.strictEqual(ran.stdout.trim(), "token true, scope certificate:manage, effect ok")

      const checked = yield* run(process.execPath, [
        join(root, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        project
      ], { cwd: project, timeout: 120_000 })
      assert.strictEqual(checked.code, 0, checked.stdout + checked.stderr)

      const packedBytes = statSync(tarball).size
      const installedBytes = sizeOf(join(project, "node_modules", "@vedauth", "client"))
      console.log(
        `@vedauth/client: packed ${(packedBytes / 1024).toFixed(1)} KiB, installed ${
          (installedBytes / 1024).toFixed(1)
        } KiB, beside effect ${effectVersion}`
      )
      assert.isBelow(packedBytes, budget.packedBytes)
      assert.isBelow(installedBytes, budget.installedBytes)
    }))
})
