import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import { type CliError, CommandExited, errorLine } from "./errors.js"
import { ExitCode, exitCodeFor } from "./exitCode.js"
import { safeText } from "./terminalText.js"

// Which signal stopped us, for the conventional 128 + signal number exit code: a script must not
// read an interrupted `$(vedauth token)` as a success with an empty token.
let signalled: number | undefined

const watchProcess = () => {
  process.once("SIGINT", () => (signalled = 130))
  process.once("SIGTERM", () => (signalled = 143))
  // A reader that goes away (`vedauth demo | head`) is no failure of ours: stop quietly, as a process
  // killed by SIGPIPE would (128 + 13), instead of dying on an unhandled EPIPE with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(141)
      throw error
    })
  }
}

const report = (cause: Cause.Cause<CliError>, interruptIsSuccess: boolean): number => {
  if (Cause.isInterruptedOnly(cause)) return interruptIsSuccess ? ExitCode.Ok : signalled ?? ExitCode.Interrupted
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const error = failure.value
    // `vedauth run`: the command's own code, and its own words (on its stderr) only.
    if (error instanceof CommandExited) return error.exitCode
    process.stderr.write(`${errorLine(error)}\n`)
    return exitCodeFor(error)
  }
  // A defect is a bug of ours: one line, no trace (it could quote anything).
  const defect = Cause.squash(cause)
  process.stderr.write(`error: Defect: ${safeText(defect instanceof Error ? defect.message : "unexpected failure")}\n`)
  return ExitCode.Unexpected
}

// Logs are for people, never part of a result: stderr, always, so `$(vedauth token)` and
// `login --json` carry only the result; and a server's words in them are shown escaped.
const logsToStderr = Logger.replace(
  Logger.defaultLogger,
  Logger.withConsoleError(Logger.map(Logger.logfmtLogger, safeText))
)

/**
 * Runs a command's effect as the process: one error line on stderr on failure, the documented exit
 * code, logs on stderr, Ctrl-C interrupts (and so closes servers and revokes sessions).
 * @internal
 */
export const runMain = (
  effect: Effect.Effect<void, CliError>,
  options: { readonly interruptIsSuccess: boolean }
): void => {
  watchProcess()
  NodeRuntime.runMain(Effect.provide(effect, logsToStderr), {
    disableErrorReporting: true,
    // Its pretty logger writes to stdout; ours (above) writes to stderr.
    disablePrettyLogger: true,
    // The runtime's teardown is generic over the error; this program's is `effect`'s, a CliError.
    teardown: (exit, onExit) =>
      onExit(
        Exit.isSuccess(exit) ? ExitCode.Ok : report(exit.cause as Cause.Cause<CliError>, options.interruptIsSuccess)
      )
  })
}
