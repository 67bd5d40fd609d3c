/**
 * The `vedauth` executable: runs the command, prints one error line on failure, exits with the
 * documented code.
 *
 * @since 0.1.0
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { ValidationError } from "@effect/cli"
import { Cause, Effect, Exit, Option } from "effect"
import { run } from "./Cli.js"
import { errorLine, UsageError } from "./internal/errors.js"
import { ExitCode, exitCodeFor } from "./internal/exitCode.js"

const verbose = process.argv.includes("--verbose")

const report = (cause: Cause.Cause<unknown>): number => {
  if (Cause.isInterruptedOnly(cause)) return ExitCode.Ok
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    // @effect/cli has already printed usage errors with the help text.
    if (ValidationError.isValidationError(failure.value)) return ExitCode.Usage
    const { line, tag } = errorLine(failure.value)
    process.stderr.write(`${line}\n`)
    if (verbose) process.stderr.write(`${JSON.stringify(failure.value)}\n`)
    return exitCodeFor(tag)
  }
  // A defect is a bug of ours: say so in one line; the trace only with --verbose.
  process.stderr.write(`error: Defect: ${Cause.squash(cause) instanceof Error ? (Cause.squash(cause) as Error).message : "unexpected failure"}\n`)
  if (verbose) process.stderr.write(`${Cause.pretty(cause)}\n`)
  return ExitCode.Unexpected
}

// A password on the command line shows in `ps` and shell history: refuse it before anything runs.
const passwordFlag = process.argv.slice(2).some((arg) => arg === "--password" || arg.startsWith("--password="))

const main = passwordFlag
  ? Effect.fail(
    new UsageError({
      detail: "the password is never taken from a flag (it would show in ps and shell history): " +
        "use --password-stdin, VEDAUTH_PASSWORD, or the prompt on a terminal"
    })
  )
  : Effect.suspend(() => run(process.argv))

main.pipe(
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) ? ExitCode.Ok : report(exit.cause))
  })
)
