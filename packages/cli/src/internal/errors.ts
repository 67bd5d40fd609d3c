import type { HttpClientError } from "@effect/platform/HttpClientError"
import { VedAuthError } from "@vedauth/core"
import type { ServeError } from "@vedauth/testing/Simulator"
import type { ConfigError } from "effect"
import { Schema } from "effect"
import { safeText } from "./terminalText.js"

/**
 * A mistake in how the command was called: exit code 1. The detail ends with the flag or variable
 * to look at, in parentheses.
 * @internal
 */
export class UsageError extends Schema.TaggedError<UsageError>("@vedauth/cli/UsageError")("UsageError", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

/**
 * A command that needs a stored grant found none: run `vedauth login` first. Exit code 2.
 * @internal
 */
export class NotLoggedIn extends Schema.TaggedError<NotLoggedIn>("@vedauth/cli/NotLoggedIn")("NotLoggedIn", {
  detail: Schema.optional(Schema.String)
}) {
  override get message(): string {
    return this.detail ?? "no grant stored for this server, client, scope and user: run `vedauth login` first"
  }
}

/**
 * The profiles file (beside the token store) is not ours or cannot be written: exit code 6, as for
 * the token store itself.
 * @internal
 */
export class ProfilesError extends Schema.TaggedError<ProfilesError>("@vedauth/cli/ProfilesError")("ProfilesError", {
  detail: Schema.String,
  path: Schema.String
}) {
  override get message(): string {
    return `${this.detail} (${this.path})`
  }
}

// Our errors' messages start with "<Tag>: "; keep one copy of the tag.
const withoutTag = (tag: string, message: string): string => {
  const text = message.startsWith(`${tag}: `) ? message.slice(tag.length + 2) : message
  return text === "" ? "failed" : text
}

const describe = (error: CliError): { readonly tag: string; readonly text: string } => {
  if (VedAuthError.isVedAuthError(error)) {
    // A Kerberos error's message starts with its reason (KRB_AP_ERR_MUT_FAIL: ...).
    return { tag: error._tag, text: withoutTag(error._tag, error.message) }
  }
  // The simulator's error has no message of its own (Schema's default would print its fields as JSON).
  if (error._tag === "ServeError") return { tag: error._tag, text: error.detail }
  // The command line's own errors, a setting the library could not read (ConfigError) and the HTTP
  // client's: tagged, with a message.
  return { tag: error._tag, text: withoutTag(error._tag, error.message) }
}

// The self-contained command is one bundled file: Node resolves the optional addon from a
// node_modules folder beside or above that file, never from the bundle itself.
const addonWords: readonly [string, string] = [
  "npm i kerberos@7; on Debian apt-get install libkrb5-dev g++ make python3 before installing it",
  "the vedauth command is a single bundled file and cannot carry a native addon: install it where Node finds it from that file (npm i kerberos@7 in the folder vedauth is installed in, or in one above it; on Debian apt-get install libkrb5-dev g++ make python3 first), or leave out --system-kerberos and use a FILE: cache (KRB5CCNAME), a keytab (--keytab) or a password"
]

// The library's advice names its options (`allowHttp: true`); a command line user needs the flag.
const cliWords: ReadonlyArray<readonly [string, string]> = [
  ["opt in with allowHttp: true (VEDAUTH_ALLOW_HTTP=1)", "opt in with --allow-http (or VEDAUTH_ALLOW_HTTP=1)"],
  [
    "or unset it to authorize with a keytab or password, or use the system's Kerberos (kerberos: { system: true }, NodeSystemKerberos), or choose the negotiate or ntlm mechanism",
    "then KRB5CCNAME=FILE:/path/to/ccache; or unset it to authorize with a keytab (--keytab) or a password (--password-stdin); or choose --mechanism negotiate or ntlm"
  ],
  addonWords
]

// Node's codes for a certificate no trusted CA issued: the one thing the user can do is name the CA.
const untrusted =
  /\b(?:UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|CERT_UNTRUSTED)\b/

const inCliWords = (tag: string, text: string): string => {
  const said = cliWords.reduce((words, [library, cli]) => words.replace(library, cli), text)
  return tag === "TransportError" && untrusted.test(said)
    ? `${said}; if the server's certificate comes from your own CA, trust that CA with --ca-file PEM (or VEDAUTH_CA_FILE)`
    : said
}

/**
 * The one line a failure prints on stderr: `error: <Tag>: <description>`, in the command line's
 * words (its flags, not the library's options), with any control character from the server shown
 * escaped.
 * @internal
 */
export const errorLine = (error: CliError): string => {
  const { tag, text } = describe(error)
  return `error: ${safeText(tag)}: ${safeText(inCliWords(tag, text).replace(/\s*\n\s*/g, " "))}`
}

/**
 * The command `vedauth run` started ended with a failure code, or by a signal (128 + its number):
 * vedauth exits with that code and prints nothing (the command said what it had to).
 * @internal
 */
export class CommandExited extends Schema.TaggedError<CommandExited>("@vedauth/cli/CommandExited")("CommandExited", {
  exitCode: Schema.Number
}) {
  override get message(): string {
    return `the command exited with code ${this.exitCode}`
  }
}

/**
 * The command `vedauth run` was asked to start could not be: not found (exit code 127, as a shell
 * says), or not executable (126).
 * @internal
 */
export class CommandNotStarted
  extends Schema.TaggedError<CommandNotStarted>("@vedauth/cli/CommandNotStarted")("CommandNotStarted", {
    command: Schema.String,
    reason: Schema.String,
    exitCode: Schema.Number
  })
{
  override get message(): string {
    return `cannot run '${this.command}': ${this.reason}`
  }
}

/**
 * Every way a command can fail: the command line's own errors, the library's (and the settings it
 * reads), the simulator's (`simulate`, `demo`) and the HTTP client's (`demo`'s own calls). Each has
 * its exit code in `exitCode.ts`, and `errorLine` describes each.
 * @internal
 */
export type CliError =
  | UsageError
  | NotLoggedIn
  | ProfilesError
  | CommandExited
  | CommandNotStarted
  | VedAuthError.VedAuthError
  | ConfigError.ConfigError
  | ServeError
  | HttpClientError
