/**
 * Bundles a worker script into a temp folder and runs it as a real OS process, so that tests can
 * race processes over one store file or kill one mid-lock. The worker prints "ready" when it is
 * set up and waits for "go" on stdin.
 */
import { build } from "esbuild"
import { spawn } from "node:child_process"

export const bundleWorker = async (source: string, outfile: string): Promise<string> => {
  await build({ entryPoints: [source], bundle: true, platform: "node", format: "cjs", outfile, logLevel: "silent" })
  return outfile
}

export interface Worker {
  readonly pid: number
  /** Resolves once the worker printed `line` (or exited: a worker that dies must fail the test, not hang it). */
  readonly said: (line: string) => Promise<void>
  readonly done: Promise<string>
  readonly go: () => void
}

export const startWorker = (bundle: string, args: ReadonlyArray<string>): Worker => {
  const child = spawn(process.execPath, [bundle, ...args], { stdio: ["pipe", "pipe", "inherit"] })
  let output = ""
  const waiting: Array<() => void> = []
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString()
    waiting.splice(0).forEach((wake) => wake())
  })
  const done = new Promise<string>((resolve, reject) => {
    child.on("error", reject)
    child.on("exit", () => {
      waiting.splice(0).forEach((wake) => wake())
      resolve(output)
    })
  })
  const said = (line: string) =>
    new Promise<void>((resolve) => {
      const check = () => (output.includes(`${line}\n`) || child.exitCode !== null || child.signalCode !== null
        ? resolve()
        : waiting.push(check))
      check()
    })
  return { pid: child.pid!, said, done, go: () => child.stdin.end("go\n") }
}
