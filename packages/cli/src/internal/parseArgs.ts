/**
 * One command line read against the tables of `spec.ts`, with node's own `util.parseArgs`. Plain
 * code, no Effect: the lean `token` path uses it too.
 * @internal
 */
import { parseArgs as nodeParseArgs } from "node:util"
import { type CommandSpec, commands, findCommand, type Flags, type OptionKey, options } from "./spec.js"
import { didYouMean } from "./suggest.js"

/** @internal */
export type Parsed =
  | { readonly _tag: "Run"; readonly command: CommandSpec; readonly flags: Flags }
  | { readonly _tag: "Help"; readonly command: CommandSpec | undefined }
  | { readonly _tag: "Version" }
  | { readonly _tag: "Usage"; readonly detail: string }

const passwordFlag = /^--password(=|$)/

const usage = (detail: string): Parsed => ({ _tag: "Usage", detail })

const unknownCommand = (name: string): Parsed =>
  usage(`unknown command '${name}'${didYouMean(name, commands.map((command) => command.name))} (see vedauth help)`)

// node's messages name the option but add advice about `--` that does not apply here: say it our way.
const describeParseError = (command: CommandSpec, message: string): string => {
  const unknown = /Unknown option '([^']*)'/.exec(message)
  if (unknown) {
    const flags = command.options.map((key) => `--${options[key].flag}`)
    return `unknown option ${unknown[1]} for vedauth ${command.name}${didYouMean(unknown[1]!, flags)} (see vedauth help ${command.name})`
  }
  const missingValue = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message)
  if (missingValue) return `${missingValue[1]} needs a value (${missingValue[1]})`
  const unexpectedValue = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(message)
  if (unexpectedValue) return `${unexpectedValue[1]} takes no value (${unexpectedValue[1]})`
  const positional = /Unexpected argument '([^']*)'/.exec(message)
  if (positional) return `unexpected argument '${positional[1]}' for vedauth ${command.name} (see vedauth help ${command.name})`
  return message
}

/**
 * Reads `vedauth <command> [options]`. `--help` anywhere, `-h`, and `help [command]` ask for help;
 * `--version` (or `-V`, `version`) for the installed package's version.
 * @internal
 */
export const parseCommandLine = (args: ReadonlyArray<string>): Parsed => {
  const [name, ...rest] = args
  if (name === undefined || name === "--help" || name === "-h") return { _tag: "Help", command: undefined }
  if (name === "--version" || name === "-V" || name === "version") return { _tag: "Version" }
  if (name === "help") {
    if (rest.length === 0) return { _tag: "Help", command: undefined }
    const topic = findCommand(rest[0]!)
    return topic === undefined || rest.length > 1 ? unknownCommand(rest.join(" ")) : { _tag: "Help", command: topic }
  }
  const command = findCommand(name)
  if (command === undefined) return unknownCommand(name)
  // A password on the command line shows in `ps` and shell history: refuse it before anything runs.
  if (rest.some((arg) => passwordFlag.test(arg))) {
    return usage(
      "the password is never taken from a flag (it would show in ps and shell history): " +
        "pipe it to --password-stdin, set VEDAUTH_PASSWORD, or answer the prompt on a terminal (--password)"
    )
  }
  if (rest.includes("--help") || rest.includes("-h")) return { _tag: "Help", command }
  const keys: ReadonlyArray<OptionKey> = command.options
  try {
    const { values } = nodeParseArgs({
      args: [...rest],
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(keys.map((key) => [options[key].flag, { type: options[key].kind }]))
    })
    const flags: Record<string, string | boolean> = {}
    for (const key of keys) {
      const value = values[options[key].flag]
      if (typeof value === "string" || typeof value === "boolean") flags[key] = value
    }
    return { _tag: "Run", command, flags }
  } catch (error) {
    return usage(describeParseError(command, error instanceof Error ? error.message : String(error)))
  }
}
