/**
 * `vedauth run [selectors] -- COMMAND [ARGS...]`: a command started with a valid token in its
 * environment (the names vcert and VenafiPS read), never in its arguments, and without the secrets
 * vedauth itself was given.
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { constants } from "node:os"
import { type Run, validGrant } from "./commands.js"
import { CommandExited, CommandNotStarted } from "./errors.js"
import { proxyHasPassword } from "./proxyChoice.js"
import type { Env } from "./selection.js"
import { storeUrlHasPassword } from "./sharedStoreAddress.js"

/** What the command is told: the token, the server and the CA, under each tool's own names. @internal */
export interface Handed {
  readonly accessToken: string
  readonly url: string
  readonly caFile: string | undefined
}

// vedauth's own secrets: the command needs the token, not what got it.
const alwaysRemoved = ["VEDAUTH_PASSWORD", "VEDAUTH_STORE_KEY"]
// A store or proxy URL is the command's business only while it carries no password. HTTPS_PROXY and
// its kin are left as they are: they were set for every program, and the command reaches the same
// server through the same proxy.
const removedWithPassword: Readonly<Record<string, (value: string) => boolean>> = {
  VEDAUTH_TOKEN_STORE: storeUrlHasPassword,
  VEDAUTH_PROXY: proxyHasPassword
}

/** The command's environment: ours, less vedauth's secrets, plus the token's variables. @internal */
export const childEnvironment = (env: Env, handed: Handed): Record<string, string> => {
  const child: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined || alwaysRemoved.includes(name)) continue
    if (removedWithPassword[name]?.(value) === true) continue
    child[name] = value
  }
  for (const name of ["VEDAUTH_ACCESS_TOKEN", "VCERT_TOKEN", "VDC_TOKEN"]) child[name] = handed.accessToken
  child["VCERT_URL"] = handed.url
  child["VDC_SERVER"] = handed.url
  // Without a CA of ours the server is trusted by the system's CAs: a bundle the user set stays.
  if (handed.caFile !== undefined) child["VCERT_TRUST_BUNDLE"] = handed.caFile
  return child
}

const forwarded = ["SIGINT", "SIGTERM", "SIGHUP"] as const

// What a shell says when it cannot start a command: 127 not found, 126 found but not runnable.
const notStarted = (command: string, error: NodeJS.ErrnoException): CommandNotStarted =>
  error.code === "ENOENT"
    ? new CommandNotStarted({ command, reason: "command not found (ENOENT)", exitCode: 127 })
    : new CommandNotStarted({ command, reason: `${error.code ?? "failed"}: it could not be started`, exitCode: 126 })

/**
 * Starts the command (no shell) with the terminal's stdin, stdout and stderr, passes SIGINT, SIGTERM
 * and SIGHUP on to it and ends with its code (128 + N for signal N). While it runs, vedauth's own
 * handlers (which would interrupt vedauth itself and exit 130) are set aside: the command decides how
 * a signal ends it, and vedauth reports what it decided.
 * @internal
 */
export const runChild = (
  argv: ReadonlyArray<string>,
  env: Record<string, string>
): Effect.Effect<void, CommandExited | CommandNotStarted> =>
  Effect.async<void, CommandExited | CommandNotStarted>((resume) => {
    const [command, ...args] = argv as [string, ...Array<string>]
    // rawListeners: a `once` listener set aside comes back as a `once` one.
    const saved = forwarded.map((signal) =>
      [signal, process.rawListeners(signal) as Array<(...args: Array<unknown>) => void>] as const
    )
    for (const signal of forwarded) process.removeAllListeners(signal)
    const child = spawn(command, args, { env, stdio: "inherit" })
    const forward = (signal: NodeJS.Signals) => child.kill(signal)
    for (const signal of forwarded) process.on(signal, forward)
    let restored = false
    const restore = () => {
      // Once only, whichever of exit, a spawn error or an interruption comes first.
      if (restored) return
      restored = true
      for (const signal of forwarded) process.removeListener(signal, forward)
      for (const [signal, listeners] of saved) for (const listener of listeners) process.on(signal, listener)
    }
    child.on("error", (error: NodeJS.ErrnoException) => {
      // Only a spawn failure arrives before "spawn"; a failed kill later is no reason to stop.
      if (child.pid !== undefined) return
      restore()
      resume(Effect.fail(notStarted(command, error)))
    })
    child.once("exit", (code, signal) => {
      restore()
      const exitCode = signal === null ? (code ?? 1) : 128 + (constants.signals[signal] ?? 0)
      resume(exitCode === 0 ? Effect.void : Effect.fail(new CommandExited({ exitCode })))
    })
    // Interrupted some other way than by a signal (a test's timeout): the command goes too.
    return Effect.sync(() => {
      restore()
      child.kill("SIGTERM")
    })
  })

/** @internal */
export const run: Run = (flags, env, operands) =>
  Effect.gen(function*() {
    const { grant, selected } = yield* validGrant(flags, env)
    const handed = { accessToken: Redacted.value(grant.accessToken), url: selected.url, caFile: selected.caFile }
    yield* runChild(operands, childEnvironment(env, handed))
  })
