/**
 * The command line's failures are a typed union (`CliError`): each has its one stderr line and its
 * documented exit code, the library's and the settings' errors included.
 */
import { assert, describe, it } from "@effect/vitest"
import { VedAuthError } from "@vedauth/core"
import { Simulator } from "@vedauth/testing"
import { ConfigError } from "effect"
import {
  type CliError,
  CommandExited,
  CommandNotStarted,
  errorLine,
  NotLoggedIn,
  ProfilesError,
  UsageError
} from "../src/internal/errors.js"
import { exitCodeFor } from "../src/internal/exitCode.js"

describe("CliError", () => {
  it("one line and the documented exit code for each kind of failure", () => {
    const cases: ReadonlyArray<readonly [CliError, string, number]> = [
      [new UsageError({ detail: "no server URL (--url)" }), "error: UsageError: no server URL (--url)", 1],
      [
        new NotLoggedIn({}),
        "error: NotLoggedIn: no grant stored for this server, client, scope and user: run `vedauth login` first",
        2
      ],
      [new VedAuthError.AuthenticationFailed({ description: "rejected" }), "error: AuthenticationFailed: rejected", 3],
      [
        new VedAuthError.TransportError({ detail: "connection refused" }),
        "error: TransportError: connection refused",
        4
      ],
      [ConfigError.InvalidData(["VEDAUTH_URL"], "not a URL"), "error: ConfigError: not a URL", 5],
      [new Simulator.ServeError({ detail: "port in use" }), "error: ServeError: port in use", 5],
      [new VedAuthError.TokenStoreError({ detail: "corrupt", path: "/s" }), "error: TokenStoreError: corrupt (/s)", 6],
      [new ProfilesError({ detail: "not ours", path: "/p" }), "error: ProfilesError: not ours (/p)", 6],
      [
        new CommandNotStarted({ command: "nope", reason: "not found", exitCode: 127 }),
        "error: CommandNotStarted: cannot run 'nope': not found",
        127
      ]
    ]
    for (const [error, line, code] of cases) {
      assert.strictEqual(errorLine(error), line)
      assert.strictEqual(exitCodeFor(error), code, error._tag)
    }
    assert.strictEqual(exitCodeFor(new CommandExited({ exitCode: 143 })), 143, "vedauth run: the command's own code")
  })

  it("a server's control characters never reach the terminal raw", () => {
    const line = errorLine(new VedAuthError.TransportError({ detail: "bad\u001b[2Janswer\nsecond line" }))
    assert.notInclude(line, "\u001b")
    assert.notInclude(line, "\n")
  })
})
