/** One `Effect.provide(NodeVedAuth.layer(...))` and VEDauth authorizes against the impacket NTLM server. */
import { assert, describe, it } from "@effect/vitest"
import * as VedAuth from "@vedauth/core/VedAuth"
import { Effect, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as NodeVedAuth from "../src/NodeVedAuth.js"
import { startServer } from "./interop/server.js"

describe("NodeVedAuth", () => {
  it.live("authorizes with Windows credentials through one provided layer", () =>
    Effect.gen(function*() {
      const server = yield* startServer(["--user", "CORP\\jürgen:pässword", "--require-mic"])
      const dir = yield* Effect.acquireRelease(
        Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-store-"))),
        (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
      )
      const grant = yield* VedAuth.authorize().pipe(
        Effect.provide(NodeVedAuth.layer({
          url: server.url,
          clientId: "vedauth-test",
          scope: "certificate:manage",
          username: "CORP\\jürgen",
          password: Redacted.make("pässword"),
          tokenStorePath: Path.join(dir, "tokens.json")
        }))
      )
      assert.strictEqual(grant.identity, "CORP\\jürgen")
      assert.isTrue(Redacted.value(grant.accessToken).startsWith("access-"))
    }).pipe(Effect.scoped))
})
