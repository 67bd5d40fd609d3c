/**
 * One command line read against the tables of `spec.ts`, with node's own `util.parseArgs`. Plain
 * code, no Effect: the lean `token` path uses it too.
 * @internal
 */
import { parseArgs as nodeParseArgs } from "node:util"
import { commands, type CommandSpec, findCommand, type Flags, type OptionKey, options } from "./spec.js"
import { didYouMean } from "./suggest.js"

/** @internal */
export type Parsed =
  | {
    readonly _tag: "Run"
    readonly command: CommandSpec
    readonly flags: Flags
    /** The command to run (after `--`) or the words the command takes; empty for the others. */
    readonly operands: ReadonlyArray<string>
  }
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
    return `unknown option ${unknown[1]} for vedauth ${command.name}${
      didYouMean(unknown[1]!, flags)
    } (see vedauth help ${command.name})`
  }
  const missingValue = /Option '(?:-\w, )?(--[\w-]+)[^']*' argument missing/.exec(message)
  if (missingValue) return `${missingValue[1]} needs a value (${missingValue[1]})`
  const unexpectedValue = /Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(message)
  if (unexpectedValue) return `${unexpectedValue[1]} takes no value (${unexpectedValue[1]})`
  const positional = /Unexpected argument '([^']*)'/.exec(message)
  if (positional) {
    return `unexpected argument '${positional[1]}' for vedauth ${command.name} (see vedauth help ${command.name})`
  }
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
  // Options end at `--`: what follows is the command `run` starts, never read as ours.
  const end = rest.indexOf("--")
  const own = end === -1 ? rest : rest.slice(0, end)
  const after = end === -1 ? [] : rest.slice(end + 1)
  // A password on the command line shows in `ps` and shell history: refuse it before anything runs.
  if (own.some((arg) => passwordFlag.test(arg))) {
    return usage(
      "the password is never taken from a flag (it would show in ps and shell history): " +
        "pipe it to --password-stdin, set VEDAUTH_PASSWORD, or answer the prompt on a terminal (--password)"
    )
  }
  if (own.includes("--help") || own.includes("-h")) return { _tag: "Help", command }
  const read = readOptions(command, own)
  if (read._tag === "Usage") return read
  return operandsOf(command, read.flags, read.positionals, end === -1 ? undefined : after)
}

const readOptions = (command: CommandSpec, args: ReadonlyArray<string>) => {
  const keys: ReadonlyArray<OptionKey> = command.options
  try {
    const { positionals, values } = nodeParseArgs({
      args: [...args],
      strict: true,
      allowPositionals: command.operands?._tag === "Words",
      options: Object.fromEntries(keys.map((key) => [options[key].flag, { type: options[key].kind }]))
    })
    const flags: Record<string, string | boolean> = {}
    for (const key of keys) {
      const value = values[options[key].flag]
      if (typeof value === "string" || typeof value === "boolean") flags[key] = value
    }
    return { _tag: "Options", flags, positionals } as const
  } catch (error) {
    const detail = describeParseError(command, error instanceof Error ? error.message : String(error))
    // `vedauth run vcert ...` without `--`: say where the command goes.
    return {
      _tag: "Usage",
      detail: command.operands?._tag === "Command" && /^unexpected argument/.test(detail) ? runUsage : detail
    } as const
  }
}

const runUsage =
  "vedauth run needs the command after --: vedauth run [options] -- COMMAND [ARGS...] (see vedauth help run)"

// The operands a command takes: a command after `--` (run), or words (completion SHELL).
const operandsOf = (
  command: CommandSpec,
  flags: Flags,
  positionals: ReadonlyArray<string>,
  afterDashes: ReadonlyArray<string> | undefined
): Parsed => {
  const operands = command.operands
  if (operands?._tag === "Command") {
    return afterDashes === undefined || afterDashes.length === 0
      ? usage(runUsage)
      : { _tag: "Run", command, flags, operands: afterDashes }
  }
  const words = [...positionals, ...(afterDashes ?? [])]
  if (operands === undefined) {
    return words.length === 0
      ? { _tag: "Run", command, flags, operands: [] }
      : usage(`unexpected argument '${words[0]}' for vedauth ${command.name} (see vedauth help ${command.name})`)
  }
  if (words.length !== 1 || !operands.values.includes(words[0]!)) {
    const given = words.length === 0 ? "" : `'${words.join(" ")}' is not one: `
    return usage(
      `vedauth ${command.name} takes one of ${
        operands.values.join(", ")
      }: ${given}vedauth ${command.name} ${operands.usage}`
    )
  }
  return { _tag: "Run", command, flags, operands: words }
}
