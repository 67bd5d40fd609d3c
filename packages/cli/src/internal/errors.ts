import { Schema } from "effect"

/**
 * A mistake in how the command was called (missing option, password flag, ...): exit code 1.
 * @internal
 */
export class UsageError extends Schema.TaggedError<UsageError>("@vedauth/cli/UsageError")("UsageError", {
  detail: Schema.String
}) {
  override get message(): string {
    return this.detail
  }
}

const describe = (error: unknown): { readonly tag: string; readonly text: string } => {
  if (typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string") {
    const message = "message" in error && typeof error.message === "string" ? error.message : ""
    // Our errors' messages start with "<Tag>: "; keep one copy of the tag.
    const text = message.startsWith(`${error._tag}: `) ? message.slice(error._tag.length + 2) : message
    return { tag: error._tag, text: text === "" ? "failed" : text }
  }
  return { tag: "UnexpectedError", text: error instanceof Error ? error.message : String(error) }
}

/**
 * The one line a failure prints on stderr: `error: <Tag>: <description>`.
 * @internal
 */
export const errorLine = (error: unknown): { readonly tag: string; readonly line: string } => {
  const { tag, text } = describe(error)
  return { tag, line: `error: ${tag}: ${text.replace(/\s*\n\s*/g, " ")}` }
}

/**
 * A command that needs a stored grant found none: run `vedauth login` first. Exit code 2.
 * @internal
 */
export class NotLoggedIn extends Schema.TaggedError<NotLoggedIn>("@vedauth/cli/NotLoggedIn")("NotLoggedIn", {}) {
  override get message(): string {
    return "no grant stored for this server, client, scope and user: run `vedauth login` first"
  }
}
