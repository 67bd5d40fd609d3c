/**
 * The `vedauth` command: get, keep and use VEDauth tokens from a shell.
 *
 * @since 0.1.0
 */
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
// The bundle inlines this, so `vedauth --version` is the version of the package that was installed.
import packageJson from "../package.json" with { type: "json" }
import { login, logout, refresh, revoke, type Run as CommandRun, status, token, verify } from "./internal/commands.js"
import { completion, profileNames } from "./internal/completion.js"
import { demo } from "./internal/demo.js"
import { type CliError, UsageError } from "./internal/errors.js"
import { commandHelp, programHelp } from "./internal/help.js"
import { withEnvironment } from "./internal/kerberos.js"
import { parseCommandLine } from "./internal/parseArgs.js"
import { run as runCommand } from "./internal/runCommand.js"
import { runMain } from "./internal/runMain.js"
import type { Env } from "./internal/selection.js"
import { simulate } from "./internal/simulate.js"

const commands: Readonly<Record<string, CommandRun>> = {
  login,
  token,
  verify,
  refresh,
  revoke,
  logout,
  status,
  run: runCommand,
  completion,
  __profiles: profileNames,
  simulate,
  demo
}

/**
 * The command line `args` (without the program name) as an effect: prints the result on stdout and
 * fails with a tagged error (`UsageError` for a mistake in the call, or the library's own errors:
 * `CliError`).
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<void, CliError> =>
  Effect.suspend(() => {
    const parsed = parseCommandLine(args)
    switch (parsed._tag) {
      case "Version":
        return Console.log(packageJson.version)
      case "Help":
        return Console.log(parsed.command === undefined ? programHelp() : commandHelp(parsed.command))
      case "Usage":
        return Effect.fail(new UsageError({ detail: parsed.detail }))
      case "Run": {
        const command = commands[parsed.command.name]
        return command === undefined
          ? Effect.fail(new UsageError({ detail: "unknown command (see vedauth help)" }))
          : command(parsed.flags, env as Env, parsed.operands).pipe(withEnvironment(env))
      }
    }
  })

/**
 * Runs the command line as the process: the result on stdout, one `error: <Tag>: ...` line on
 * stderr on failure, and the documented exit code.
 *
 * @since 0.1.0
 * @category running
 */
export const main = (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>): void =>
  // `simulate` runs until Ctrl-C: for it, being stopped is the normal end.
  runMain(run(args, env), { interruptIsSuccess: args[0] === "simulate" })
