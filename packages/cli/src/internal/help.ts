/**
 * The help text, from the tables of `spec.ts`: plain text (no escape codes, so it reads the same
 * piped, in a file and under NO_COLOR), the program name in every usage line, optional parts in
 * brackets.
 * @internal
 */
// The package ships no docs/ folder: the help points at the guide installed beside the executable.
import { realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { commands, type CommandSpec, type OptionKey, options } from "./spec.js"

const placeholder = (key: OptionKey): string => {
  const spec = options[key]
  return spec.kind === "string" ? `--${spec.flag} ${spec.value ?? "VALUE"}` : `--${spec.flag}`
}

/** `vedauth login --url URL ... [--username USER]`: required selectors bare, the rest in brackets. @internal */
export const usageLine = (command: CommandSpec): string => {
  const required = new Set<string>(command.required ?? [])
  const parts = command.options.map((key) => (required.has(key) ? placeholder(key) : `[${placeholder(key)}]`))
  const topic = command.name === "help" ? ["[COMMAND]"] : []
  const operands = command.operands === undefined
    ? []
    : [command.operands._tag === "Command" ? "-- COMMAND [ARGS...]" : command.operands.usage]
  return ["vedauth", command.name, ...topic, ...parts, ...operands].join(" ")
}

const optionLines = (keys: ReadonlyArray<OptionKey>): Array<string> => {
  const rows = keys.map((key) => {
    const spec = options[key]
    return [placeholder(key), spec.env === undefined ? spec.description : `${spec.description} (${spec.env})`] as const
  })
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)
}

/** `vedauth help`. @internal */
export const programHelp = (): string => {
  const shown = commands.filter((command) => command.hidden !== true)
  const width = Math.max(...shown.map((command) => command.name.length))
  return [
    "vedauth: bearer tokens from Venafi TPP's VEDauth, with Integrated Windows Authentication",
    "",
    "usage: vedauth <command> [options]",
    "       vedauth help [command]",
    "       vedauth --version",
    "",
    "commands:",
    ...shown.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    "",
    "Selectors (--url, --client-id, --scope, --username, --ca-file, --store, --profile) come from the",
    "flag, else the environment variable, else the profile `login` saved. The password never comes",
    "from a flag. Exit codes: 0 ok, 1 usage, 2 refused by the server, 3 credentials rejected,",
    "4 transport or TLS, 5 unexpected response, 6 token store; `run` exits with its command's code.",
    "",
    "`vedauth help <command>` shows a command's options. More: " + guidePath()
  ].join("\n")
}

// The guide ships beside the executable (dist/cli.md); `vedauth` may be reached through a link.
const guidePath = (): string => {
  try {
    return join(dirname(realpathSync(process.argv[1] ?? "")), "cli.md")
  } catch {
    return "cli.md, installed beside the vedauth executable"
  }
}

/** `vedauth help <command>`, `vedauth <command> --help`. @internal */
export const commandHelp = (command: CommandSpec): string =>
  [
    `vedauth ${command.name}: ${command.summary}`,
    "",
    `usage: ${usageLine(command)}`,
    ...(command.options.length === 0 ? [] : ["", "options:", ...optionLines(command.options)]),
    ...(command.required === undefined || command.required.length === 0
      ? []
      : ["", "Options without brackets are needed: from the flag, the variable or the profile."]),
    ...(command.notes === undefined ? [] : ["", command.notes])
  ].join("\n")
