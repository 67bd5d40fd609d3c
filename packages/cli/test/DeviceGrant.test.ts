/**
 * `vedauth --grant device` as a process against the simulator over HTTPS: the prompt on stderr
 * (never the device code), the test playing the person who approves or denies the printed code,
 * pending, slow_down, expiry, Ctrl-C, and renewal through the device flow from the profile alone.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { alwaysDue, fails, ok, runWatching, setupGrants, spendRefreshToken, userCodeIn } from "./support/grants.js"
import { type Run, runCli } from "./support/runCli.js"

// The device code (and every token) is an opaque base64 string like the access token: nothing of
// that shape may reach stderr, where the prompt goes.
const opaque = /[A-Za-z0-9+/]{20,}==/
const assertNoOpaqueSecret = (runs: ReadonlyArray<Run>) => {
  for (const run of runs) assert.notMatch(run.stderr, opaque, run.argv.slice(1).join(" "))
}

const device = ["--grant", "device"]

describe("vedauth --grant device", () => {
  it.scopedLive("pending, then approved: --json keeps stdout for the result; token from the store; renewal runs the flow again", () =>
    Effect.gen(function*() {
      const { env, served, server } = yield* setupGrants({
        integrations: [{ clientId: "vedauth-demo" }, alwaysDue],
        device: { interval: 1, autoApproveAfterPolls: 2 }
      })
      const login = yield* runCli(["login", ...server(), ...device, "--json"], { env })
      ok(login)
      assert.match(JSON.parse(login.stdout).identity, /^AD\+corp:/, "stdout is the one JSON object")
      assert.match(
        login.stderr,
        /^To authorize, open https:\/\/127\.0\.0\.1:\d+\/vedauth\/device and enter the code [A-Z]{4}-[A-Z]{4}\n/
      )
      assert.include(login.stderr, "Waiting for approval (Ctrl-C to stop)")
      assert.strictEqual((yield* served.simulator.stats).devicePoll, 3, "two pending answers, then the grant")

      const first = yield* runCli(["token"], { env })
      ok(first)
      assert.match(first.stdout, opaque, "the pattern catches a secret of that shape")
      const requests = (yield* served.simulator.stats).requests
      assert.strictEqual((yield* runCli(["token"], { env })).stdout, first.stdout)
      assert.strictEqual(
        (yield* served.simulator.stats).requests,
        requests,
        "the lean path found the device grant's key"
      )

      ok(yield* runCli(["login", ...server("short"), ...device, "--profile", "short"], { env }))
      const refreshed = yield* runCli(["token"], { env })
      ok(refreshed)
      assert.notInclude(refreshed.stderr, "To authorize", "a refresh asks no one")
      yield* spendRefreshToken(env)
      const renewed = yield* runCli(["token"], { env })
      ok(renewed)
      assert.include(renewed.stderr, "enter the code", "authorized again through the device flow, from the profile")
      assert.match(renewed.stdout, /^[A-Za-z0-9+/]+=*\n$/)
      assert.strictEqual((yield* served.simulator.stats).authorizeDevice, 3)
      assertNoOpaqueSecret([login, refreshed, renewed])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("a person approves the printed code; another denies it: exit 3", () =>
    Effect.gen(function*() {
      const { env, served, server } = yield* setupGrants({ device: { interval: 1 } })
      const answered = new Set<string>()
      const person = (approve: boolean) => (stderr: string) => {
        const code = userCodeIn(stderr)
        if (code === undefined || answered.has(code)) return
        answered.add(code)
        const answer = approve ? served.simulator.approveDevice(code) : served.simulator.denyDevice(code)
        assert.isTrue(Effect.runSync(answer), "the printed code is the live one")
      }
      const approved = yield* runWatching(["login", ...server(), ...device], env, person(true))
      ok(approved)
      const denied = yield* runWatching(["login", ...server(), ...device, "--profile", "other"], env, person(false))
      fails(denied, 3, /\nerror: AuthenticationFailed: .*denied/)
      assert.strictEqual(denied.stdout, "")
      assert.strictEqual(answered.size, 2)
      assertNoOpaqueSecret([approved, denied])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("slow_down: the client waits 5 seconds more and goes on to the grant", () =>
    Effect.gen(function*() {
      const { env, served, server } = yield* setupGrants({
        device: { interval: 1, slowDownPolls: 1, autoApproveAfterPolls: 1 }
      })
      ok(yield* runCli(["login", ...server(), ...device], { env }))
      const stats = yield* served.simulator.stats
      assert.strictEqual(stats.devicePoll, 2, "slow_down, then the grant: no poll in between")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("issue #21 R7: a verification link on another host is warned about on stderr, escaped, before the prompt", () =>
    Effect.gen(function*() {
      // Looks like the server's host at a glance, and carries an OSC 8 escape that would retarget a terminal's link.
      const link = "https://127.0.0.1.login-venafi.evil/vedauth/device\u001b]8;;https://evil.example\u0007"
      const { env, server } = yield* setupGrants({
        device: { interval: 1, autoApproveAfterPolls: 0, verificationUri: link }
      })
      const login = yield* runCli(["login", ...server(), ...device], { env })
      ok(login)
      const warning = login.stderr.indexOf("verification link https://127.0.0.1.login-venafi.evil/vedauth/device")
      assert.isAtLeast(warning, 0, login.stderr)
      assert.match(
        login.stderr,
        /level=WARN .*its host 127\.0\.0\.1\.login-venafi\.evil is not the server's \(127\.0\.0\.1\)/
      )
      assert.isBelow(warning, login.stderr.indexOf("To authorize, open"), "the warning comes before the prompt")
      assert.strictEqual(
        login.stderr.split("level=WARN").length,
        2,
        "one warning for the link and the complete link on the same host"
      )
      assert.notMatch(
        login.stderr,
        /[\u0000-\u0009\u000b-\u001f\u007f]/,
        "no raw control character reaches the terminal"
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("a code nobody approves expires: exit 2 with the reason, nothing stored", () =>
    Effect.gen(function*() {
      const { env, server } = yield* setupGrants({ device: { interval: 1, expiresIn: 2 } })
      const expired = yield* runCli(["login", ...server(), ...device], { env })
      fails(expired, 2, /\nerror: InvalidGrant: .*expired/)
      fails(yield* runCli(["verify", ...server(), ...device], { env }), 2, /^error: NotLoggedIn: /)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("Ctrl-C while waiting for approval: exit 130, no result, nothing stored", () =>
    Effect.gen(function*() {
      const { env, server } = yield* setupGrants({ device: { interval: 1 } })
      let signalled = false
      const stopped = yield* runWatching(["login", ...server(), ...device], env, (stderr, child) => {
        if (!signalled && userCodeIn(stderr) !== undefined) {
          signalled = true
          child.kill("SIGINT")
        }
      })
      assert.isTrue(signalled)
      assert.strictEqual(stopped.code, 130, stopped.stderr)
      assert.strictEqual(stopped.stdout, "")
      fails(yield* runCli(["verify", ...server(), ...device], { env }), 2, /^error: NotLoggedIn: /)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("disabled for the integration (InvalidClient) or a scope beyond it (InvalidScope): exit 2", () =>
    Effect.gen(function*() {
      const { env, server } = yield* setupGrants({
        integrations: [{ clientId: "vedauth-demo" }, { clientId: "no-device", grantTypes: ["integrated"] }]
      })
      fails(yield* runCli(["login", ...server("no-device"), ...device], { env }), 2, /^error: InvalidClient: /)
      fails(
        yield* runCli(["login", ...server(), ...device, "--scope", "admin:delete"], { env }),
        2,
        /^error: InvalidScope: /
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
