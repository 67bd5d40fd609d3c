import { Effect } from "effect"
import { spawn, type SpawnOptions } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

/** The bundled `vedauth` executable, as users run it. */
export const bin = fileURLToPath(new URL("../../dist/vedauth.mjs", import.meta.url))

export interface Output {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface Run extends Output {
  readonly argv: ReadonlyArray<string>
}

type Child = ReturnType<typeof spawn>

/**
 * Runs a process to its end and collects its output; `watch` sees the output so far on every chunk
 * (e.g. to signal the child once it is ready). The child is killed if the effect is interrupted.
 */
export const collect = (
  command: string,
  args: ReadonlyArray<string>,
  options: SpawnOptions & {
    readonly stdin?: string
    readonly onSpawn?: (child: Child) => void
    readonly watch?: (output: Omit<Output, "code">, child: Child) => void
  }
) =>
  Effect.async<Output>((resume) => {
    const child = spawn(command, [...args], { ...options, stdio: ["pipe", "pipe", "pipe"] })
    options.onSpawn?.(child)
    const output = { stdout: "", stderr: "" }
    child.stdout?.on("data", (chunk: Buffer) => {
      output.stdout += chunk.toString()
      options.watch?.(output, child)
    })
    child.stderr?.on("data", (chunk: Buffer) => {
      output.stderr += chunk.toString()
      options.watch?.(output, child)
    })
    child.on("close", (code) => resume(Effect.succeed({ code, ...output })))
    child.stdin?.end(options.stdin ?? "")
    return Effect.sync(() => child.kill())
  })

// Only what the CLI needs from the environment, so a developer's own VEDAUTH_* and HOME never leak
// in: HOME is a fresh folder of the run's own unless the test gives one.
const baseEnv = (home: string): Record<string, string> => ({ PATH: process.env["PATH"] ?? "", HOME: home })

/**
 * Runs `vedauth args...` with `env` and `stdin`, as a user types it: from an empty folder of its
 * own (also HOME unless `env` gives one), never from the repository; collects its output.
 */
export const runCli = (
  args: ReadonlyArray<string>,
  options: {
    readonly env?: Record<string, string>
    readonly stdin?: string
    /** The folder it runs in (default: the run's own empty folder). */
    readonly cwd?: string
    /** Called with the child once it runs, e.g. to signal it. */
    readonly onSpawn?: (child: Child) => void
  } = {}
): Effect.Effect<Run> =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "vedauth-cli-home-"))),
    (home) =>
      collect(process.execPath, [bin, ...args], {
        cwd: options.cwd ?? home,
        env: { ...baseEnv(home), ...options.env },
        ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
        ...(options.onSpawn === undefined ? {} : { onSpawn: options.onSpawn })
      }).pipe(Effect.map((output) => ({ ...output, argv: [bin, ...args] }))),
    (home) => Effect.sync(() => rmSync(home, { recursive: true, force: true }))
  )
