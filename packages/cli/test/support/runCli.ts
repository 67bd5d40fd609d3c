import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"

/** The bundled `vedauth` executable, as users run it. */
export const bin = fileURLToPath(new URL("../../dist/vedauth.mjs", import.meta.url))

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  readonly argv: ReadonlyArray<string>
}

// Only what the CLI needs from the environment, so a developer's own VEDAUTH_* never leaks in.
const baseEnv = (): Record<string, string> => ({ PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "/tmp" })

/** Runs `vedauth args...` with `env` and `stdin`, and collects its output. */
export const runCli = (
  args: ReadonlyArray<string>,
  options: {
    readonly env?: Record<string, string>
    readonly stdin?: string
    /** Called with the child once it runs, e.g. to signal it. */
    readonly onSpawn?: (child: ReturnType<typeof spawn>) => void
  } = {}
) =>
  Effect.async<Run>((resume) => {
    const argv = [bin, ...args]
    const child = spawn(process.execPath, argv, { env: { ...baseEnv(), ...options.env }, stdio: ["pipe", "pipe", "pipe"] })
    options.onSpawn?.(child)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("close", (code) => resume(Effect.succeed({ code, stdout, stderr, argv })))
    child.stdin.end(options.stdin ?? "")
    return Effect.sync(() => child.kill())
  })
