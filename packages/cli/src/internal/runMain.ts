import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Option } from "effect"
import { errorLine } from "./errors.js"
import { ExitCode, exitCodeFor } from "./exitCode.js"

const verbose = process.argv.includes("--verbose")

// Which signal stopped us, for the conventional 128 + signal number exit code: a script must not
// read an interrupted `$(vedauth token)` as a success with an empty token.
let signalled: number | undefined
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

const report = (
  cause: Cause.Cause<unknown>,
  alreadyReported: (error: unknown) => boolean,
  interruptIsSuccess: boolean
): number => {
  if (Cause.isInterruptedOnly(cause)) return interruptIsSuccess ? ExitCode.Ok : signalled ?? ExitCode.Interrupted
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    // @effect/cli has already printed usage errors with the help text.
    if (alreadyReported(failure.value)) return ExitCode.Usage
    const { line, tag } = errorLine(failure.value)
    process.stderr.write(`${line}\n`)
    if (verbose) process.stderr.write(`${JSON.stringify(failure.value)}\n`)
    return exitCodeFor(tag)
  }
  // A defect is a bug of ours: one line; the trace only with --verbose.
  const defect = Cause.squash(cause)
  process.stderr.write(`error: Defect: ${defect instanceof Error ? defect.message : "unexpected failure"}\n`)
  if (verbose) process.stderr.write(`${Cause.pretty(cause)}\n`)
  return ExitCode.Unexpected
}

/**
 * Runs a command's effect as the process: one error line on stderr on failure, the documented exit
 * code, Ctrl-C interrupts (and so closes servers and revokes sessions).
 * @internal
 */
export const runMain = <E>(
  effect: Effect.Effect<void, E>,
  alreadyReported: (error: unknown) => boolean,
  // `simulate` runs until Ctrl-C: for it, being stopped is the normal end.
  interruptIsSuccess = process.argv[2] === "simulate"
): void =>
  NodeRuntime.runMain(effect, {
    disableErrorReporting: true,
    teardown: (exit, onExit) =>
      onExit(Exit.isSuccess(exit) ? ExitCode.Ok : report(exit.cause, alreadyReported, interruptIsSuccess))
  })
