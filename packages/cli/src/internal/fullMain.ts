import { ValidationError } from "@effect/cli"
import * as NodeContext from "@effect/platform-node/NodeContext"
import { Effect } from "effect"
import { run } from "../Cli.js"
import { UsageError } from "./errors.js"
import { runMain } from "./runMain.js"

// A password on the command line shows in `ps` and shell history: refuse it before anything runs.
const passwordFlag = process.argv.slice(2).some((arg) => arg === "--password" || arg.startsWith("--password="))

/**
 * Every command, through @effect/cli.
 * @internal
 */
export const main = (): void =>
  runMain(
    (passwordFlag
      ? Effect.fail(
        new UsageError({
          detail: "the password is never taken from a flag (it would show in ps and shell history): " +
            "use --password-stdin, VEDAUTH_PASSWORD, or the prompt on a terminal"
        })
      )
      : Effect.suspend(() => run(process.argv))).pipe(Effect.provide(NodeContext.layer)),
    ValidationError.isValidationError
  )
