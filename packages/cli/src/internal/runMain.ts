import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Option } from "effect"
import { errorLine } from "./errors.js"
import { ExitCode, exitCodeFor } from "./exitCode.js"

const verbose = process.argv.includes("--verbose")

const report = (cause: Cause.Cause<unknown>, alreadyReported: (error: unknown) => boolean): number => {
  if (Cause.isInterruptedOnly(cause)) return ExitCode.Ok
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
export const runMain = <E>(effect: Effect.Effect<void, E>, alreadyReported: (error: unknown) => boolean): void =>
  NodeRuntime.runMain(effect, {
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? ExitCode.Ok : report(exit.cause, alreadyReported))
  })
