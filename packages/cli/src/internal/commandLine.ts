/**
 * The full command line: every command, every usage error, help. Loaded on demand by the
 * executable when the lean `token` path cannot answer alone.
 * @internal
 */
import { main as run } from "../Cli.js"

/** @internal */
export const main = (args: ReadonlyArray<string>): void => run(args, process.env)
