/**
 * The `vedauth` command: get, keep and use VEDauth tokens from a shell.
 *
 * @since 0.1.0
 */
import { Command } from "@effect/cli"
// The bundle inlines this, so `vedauth --version` is the version of the package that was installed.
import packageJson from "../package.json" with { type: "json" }
import * as commands from "./internal/commands.js"
import { demo } from "./internal/demo.js"
import { simulate } from "./internal/simulate.js"

/**
 * The command tree: login, token, verify, refresh, revoke, simulate, demo.
 *
 * @since 0.1.0
 * @category commands
 */
export const command = Command.make("vedauth").pipe(
  Command.withDescription("Tokens from Venafi TPP's VEDauth, with Integrated Windows Authentication"),
  Command.withSubcommands([commands.login, commands.token, commands.verify, commands.refresh, commands.revoke, simulate, demo])
)

/**
 * Runs the command on arguments (`process.argv`).
 *
 * @since 0.1.0
 * @category running
 */
export const run = Command.run(command, { name: "vedauth", version: packageJson.version })
