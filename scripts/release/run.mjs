// Small process helpers shared by the release scripts: run a command, capture its output, never throw.
import { spawn } from "node:child_process"

/**
 * Runs a command to its end and resolves with its exit code and output (never rejects: a command that
 * cannot start resolves with code 127). `input` is written to stdin; `timeoutMs` kills a hung command.
 */
export const run = (command, args, options = {}) =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 300_000)
    child.on("error", (error) => {
      clearTimeout(timer)
      resolve({ code: 127, stdout, stderr: `${stderr}${error.message}` })
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      resolve({ code: code ?? (signal === null ? 1 : 128), stdout, stderr })
    })
    // A command that exits before reading its input (node --version) closes the pipe: not an error here.
    child.stdin.on("error", () => {})
    child.stdin.end(options.input ?? "")
  })

/** The last lines of a command's output, for a failure message. */
export const tail = ({ stdout, stderr }, lines = 15) => `${stdout}\n${stderr}`.trim().split("\n").slice(-lines).join("\n")
