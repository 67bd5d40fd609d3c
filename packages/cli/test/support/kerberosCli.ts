/** What the Kerberos command-line tests share: a running `vedauth simulate --kerberos`, MIT's kinit and curl. */
import { assert } from "@effect/vitest"
import { Effect } from "effect"
import { execFile, spawn } from "node:child_process"
import { promisify } from "node:util"
import { bin } from "./runCli.js"

/** What `simulate --kerberos` printed: its URL (stdout) and, from stderr, the realm's setup. */
export interface Simulating {
  readonly url: string
  readonly stderr: string
  readonly realm: string
  readonly kdc: string
  readonly spn: string
  readonly keytab: string
  readonly krb5Conf: string
}

const field = (stderr: string, pattern: RegExp): string => {
  const found = pattern.exec(stderr)
  assert.isNotNull(found, `${pattern} in:\n${stderr}`)
  return found![1]!
}

/**
 * Runs `vedauth simulate --kerberos args...` until the scope closes (then Ctrl-C, and waits for it to
 * end), once its URL and its Kerberos lines are printed.
 */
export const simulateKerberos = (args: ReadonlyArray<string>, cwd: string) =>
  Effect.acquireRelease(
    Effect.async<Simulating & { readonly child: ReturnType<typeof spawn> }, Error>((resume) => {
      const child = spawn(process.execPath, [bin, "simulate", "--kerberos", ...args], {
        cwd,
        env: { PATH: process.env["PATH"] ?? "", HOME: cwd },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      let done = false
      const check = () => {
        if (done || !stdout.includes("\n") || !stderr.includes("e.g. KRB5_CONFIG=")) return
        done = true
        resume(Effect.succeed({
          child,
          url: stdout.split("\n")[0]!,
          stderr,
          realm: field(stderr, /Kerberos realm (\S+),/),
          kdc: field(stderr, /KDC (127\.0\.0\.1:\d+) \(TCP\)/),
          spn: field(stderr, /SPN (HTTP\/\S+) /),
          keytab: field(stderr, /keytab of \S+ written to (\S+) /),
          krb5Conf: field(stderr, /krb5\.conf written to (\S+) /)
        }))
      }
      child.stdout.on("data", (chunk: Buffer) => ((stdout += chunk.toString()), check()))
      child.stderr.on("data", (chunk: Buffer) => ((stderr += chunk.toString()), check()))
      child.on("exit", (code) => {
        if (!done) resume(Effect.fail(new Error(`simulate exited with ${code}: ${stderr}`)))
      })
    }),
    ({ child }) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGINT")
      })
  )

/** MIT's kinit with a keytab (`-kt`) into a FILE: cache, with `env` (KRB5_CONFIG). */
export const kinitKeytab = (principal: string, keytab: string, cache: string, env: Record<string, string>) =>
  Effect.promise(() =>
    promisify(execFile)("kinit", ["-kt", keytab, "-c", `FILE:${cache}`, principal], {
      env: { PATH: process.env["PATH"] ?? "", ...env }
    })
  )

/** MIT's klist of a FILE: cache: its lines, to see what another program wrote there. */
export const klist = (cache: string, env: Record<string, string>) =>
  Effect.promise(() =>
    promisify(execFile)("klist", ["-c", `FILE:${cache}`], { env: { PATH: process.env["PATH"] ?? "", ...env } })
  ).pipe(
    Effect.map(({ stdout }) => stdout)
  )

/** Asserts that none of `secrets` appears in any of the outputs. */
export const assertNoSecret = (
  outputs: ReadonlyArray<{ readonly stdout: string; readonly stderr: string }>,
  secrets: ReadonlyArray<string>
) => {
  for (const output of outputs) {
    for (const secret of secrets) {
      assert.notInclude(output.stdout, secret)
      assert.notInclude(output.stderr, secret)
    }
  }
}
