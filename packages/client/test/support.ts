import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { execFile } from "node:child_process"
import type { VedAuthClientOptions } from "../src/index.js"

/** A scoped temporary folder (removed when the scope closes). */
export const tempDir = (prefix: string) =>
  Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix })).pipe(
    Effect.provide(NodeFileSystem.layer)
  )

/** The simulator served on loopback (HTTPS by default), its CA in `dir/ca.pem`. */
export const serve = (dir: string, protocol: "http" | "https" = "https") =>
  Simulator.serve({ protocol, ...(protocol === "https" ? { caPemPath: `${dir}/ca.pem` } : {}) })

/** Options of a client of that simulator, as its default user, the store in `dir`. */
export const clientOptions = (url: string, dir: string): VedAuthClientOptions => ({
  url,
  clientId: Simulator.defaultClientId,
  scope: "certificate:manage",
  username: `${Simulator.defaultCredentials.domain}\\${Simulator.defaultCredentials.username}`,
  password: Redacted.value(Simulator.defaultCredentials.password),
  tokenStorePath: `${dir}/tokens.json`,
  ...(url.startsWith("https:") ? { caFile: `${dir}/ca.pem` } : {})
})

export interface Output {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to its end (bounded by `timeout`), its output collected. */
export const run = (
  command: string,
  args: ReadonlyArray<string>,
  options: { readonly cwd: string; readonly env?: NodeJS.ProcessEnv; readonly timeout: number }
) =>
  Effect.async<Output>((resume) => {
    const child = execFile(command, [...args], { ...options, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
      resume(Effect.succeed({ code, stdout, stderr }))
    })
    return Effect.sync(() => child.kill())
  })
