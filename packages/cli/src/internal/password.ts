import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { UsageError } from "./errors.js"

// Reads standard input to its end. A single trailing newline (from `echo` or a file) is not part of the password.
const readStdin = Effect.async<string, UsageError>((resume) => {
  const chunks: Array<Buffer> = []
  const onData = (chunk: Buffer) => chunks.push(chunk)
  const onEnd = () => resume(Effect.succeed(Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "")))
  const onError = () =>
    resume(Effect.fail(new UsageError({ detail: "could not read the password from standard input" })))
  process.stdin.on("data", onData).once("end", onEnd).once("error", onError)
  return Effect.sync(() => {
    process.stdin.off("data", onData).off("end", onEnd).off("error", onError)
    process.stdin.pause()
  })
})

// Prompts on the terminal without echo. The prompt goes to stderr, so `$(vedauth token)` captures only the token.
const promptHidden = (question: string) =>
  Effect.async<string, UsageError>((resume) => {
    const input = process.stdin
    let typed = ""
    const finish = (effect: Effect.Effect<string, UsageError>) => {
      input.off("data", onData)
      input.setRawMode(false)
      input.pause()
      process.stderr.write("\n")
      resume(effect)
    }
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString("utf8")) {
        if (char === "\r" || char === "\n") return finish(Effect.succeed(typed))
        if (char === "\u0003") return finish(Effect.fail(new UsageError({ detail: "password prompt cancelled" })))
        if (char === "\u007f" || char === "\b") typed = typed.slice(0, -1)
        else typed += char
      }
    }
    // Echo off before the question shows, so nothing typed in answer can be echoed.
    input.setRawMode(true)
    input.on("data", onData)
    input.resume()
    process.stderr.write(question)
    return Effect.sync(() => {
      input.off("data", onData)
      if (input.isTTY) input.setRawMode(false)
      input.pause()
    })
  })

/**
 * Where the password comes from, in order: standard input when `--password-stdin`, VEDAUTH_PASSWORD,
 * a prompt without echo when standard input is a terminal. Never a command-line flag.
 * The result is computed once, when the first authorize needs it.
 * @internal
 */
export const passwordSource = (options: { readonly passwordStdin: boolean; readonly username: string | undefined }) =>
  Effect.cached(
    Effect.gen(function*() {
      if (options.passwordStdin) return Option.some(Redacted.make(yield* readStdin))
      const fromEnv = yield* Config.option(Config.redacted("VEDAUTH_PASSWORD")).pipe(
        Effect.orElseSucceed(() => Option.none())
      )
      if (Option.isSome(fromEnv)) return fromEnv
      if (process.stdin.isTTY && options.username !== undefined) {
        return Option.some(Redacted.make(yield* promptHidden(`Password for ${options.username}: `)))
      }
      return Option.none<Redacted.Redacted<string>>()
    })
  )
