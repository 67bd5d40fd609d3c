/**
 * The deployment the shared store exists for, run as users run it: one `vedauth login` with the
 * password, then processes that hold no secret looping `vedauth token` across several refresh
 * windows while the server holds each refresh answer for a second. Once with one store file shared
 * by the processes of one machine, once with Redis shared by machines (a HOME each).
 *
 * 0 failed calls, 1 refresh per window, one token per window; and with the refresher killed
 * (kill -9) mid-refresh, the others carry on with at most one re-authorize, by the process that
 * holds the password. With the device grant, several processes on an empty store: one prompt.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { redisServer } from "@vedauth/test-helpers/redisServer"
import { Simulator } from "@vedauth/testing"
import { type Duration, Effect, Fiber, Redacted, Ref, Schedule } from "effect"
import type { ChildProcess } from "node:child_process"
import { type Run, runCli } from "./support/runCli.js"
import { password, selectors } from "./support/sharedStore.js"

// Tokens of 32 s: the refresh window (at least 30 s) makes each one due 2 s after it is issued.
const tokenLifetime = "32 seconds"
const holdRefresh = "1 second"
const loopMillis = 9_000
const replicas = 4

interface Call {
  readonly machine: string
  readonly code: number | null
  readonly token: string
  readonly stderr: string
}

type StoreKind = "file" | "redis"

/** The simulator, the store, and `on(machine)`: runs `vedauth` on that machine as a user would. */
const deployment = (kind: StoreKind, lifetime: Duration.DurationInput = tokenLifetime) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const served = yield* Simulator.serve({
      protocol: "http",
      integrations: [{
        clientId: Simulator.defaultClientId,
        scope: "certificate:manage,revoke;configuration:manage",
        tokenLifetime: lifetime
      }],
      faults: { holdRefreshAnswer: holdRefresh },
      // The person approves on the second poll, a second apart.
      device: { interval: 1, autoApproveAfterPolls: 2 }
    })
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-deployment-" })
    const redis = kind === "redis" ? yield* redisServer() : undefined
    const storeEnv: Record<string, string> = redis === undefined
      ? {}
      : { VEDAUTH_TOKEN_STORE: Redacted.value(redis.url) }
    // The file store is shared by the processes of one machine (one HOME); Redis by machines.
    const home = (machine: string) =>
      Effect.gen(function*() {
        const dir = `${root}/${kind === "file" ? "shared" : machine}`
        yield* fs.makeDirectory(dir, { recursive: true })
        return dir
      })
    const running = new Set<ChildProcess>()
    const on = (machine: string, args: ReadonlyArray<string>, env: Record<string, string> = {}, stdin?: string) =>
      Effect.flatMap(home(machine), (dir) =>
        runCli(args, {
          env: { HOME: dir, ...storeEnv, ...env },
          ...(stdin === undefined ? {} : { stdin }),
          onSpawn: (child) => {
            running.add(child)
            child.once("exit", () => running.delete(child))
          }
        }))
    const login = on(
      "login",
      ["login", ...selectors(served.url), "--username", "CORP\\alice", "--password-stdin"],
      {},
      password
    )
    return { served, on, login, running }
  })

const failures = (calls: ReadonlyArray<Call>) => calls.filter((call) => call.code !== 0 && call.code !== null)

describe.each(["file", "redis"] as const)("one login, %s store, replicas without a secret", (kind) => {
  it.scopedLive(
    "across several refresh windows with a slow refresh answer: 0 failed calls, 1 refresh per window, one token per window",
    () =>
      Effect.gen(function*() {
        const { login, on, served } = yield* deployment(kind)
        const loggedIn = yield* login
        assert.strictEqual(loggedIn.code, 0, loggedIn.stderr)
        const calls = yield* Ref.make<ReadonlyArray<Call>>([])
        const until = Date.now() + loopMillis
        // Each replica names the server (a machine with no profile of its own), and holds no password.
        yield* Effect.all(
          Array.from({ length: replicas }, (_, i) => loopAt(on, `replica-${i}`, until, calls, served.url)),
          { concurrency: "unbounded" }
        )
        const all = yield* Ref.get(calls)
        const stats = yield* served.simulator.stats
        assert.deepStrictEqual(failures(all).map((call) => call.stderr), [], "no call failed")
        assert.strictEqual(stats.authorizeIntegrated, 1, "only the login authorized")
        assert.isAtLeast(stats.refresh, 2, "several refresh windows were crossed")
        const tokens = distinctInOrder(all)
        // Every refresh sent produced a token the replicas used (none was refused, none wasted), and no
        // other token was handed out but the login's (unseen when its window passed before a first call).
        assert.isAtLeast(tokens.length, stats.refresh, `${tokens.length} tokens for ${stats.refresh} refreshes`)
        assert.isAtMost(tokens.length, stats.refresh + 1, `${tokens.length} tokens for ${stats.refresh} refreshes`)
        for (let i = 0; i < replicas; i++) {
          const seen = all.filter((call) => call.machine === `replica-${i}`).map((call) => tokens.indexOf(call.token))
          assert.deepStrictEqual(
            seen,
            [...seen].sort((a, b) => a - b),
            `replica-${i} never went back to an older token`
          )
        }
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    120_000
  )

  it.scopedLive(
    "the refresher killed (kill -9) mid-refresh: the others carry on; one re-authorize, by the process with the password",
    () =>
      Effect.gen(function*() {
        const { login, on, running, served } = yield* deployment(kind)
        const loggedIn = yield* login
        assert.strictEqual(loggedIn.code, 0, loggedIn.stderr)
        const calls = yield* Ref.make<ReadonlyArray<Call>>([])
        const until = Date.now() + loopMillis + 20_000
        const loops = yield* Effect.fork(Effect.all([
          ...Array.from({ length: replicas }, (_, i) => loopAt(on, `replica-${i}`, until, calls, served.url)),
          // The machine that logged in goes on calling `token`, with the password at hand.
          loopAt(on, "login", until, calls, served.url, { VEDAUTH_PASSWORD: password })
        ], { concurrency: "unbounded" }))
        // The first refresh reached the server (its answer is held): kill every vedauth then running.
        yield* Effect.repeat(served.simulator.stats, {
          until: (stats) => stats.refresh >= 1,
          schedule: Schedule.spaced("20 millis")
        })
        const killed = [...running]
        for (const child of killed) child.kill("SIGKILL")
        yield* Fiber.join(loops)
        const all = yield* Ref.get(calls)
        const stats = yield* served.simulator.stats
        assert.isAtLeast(killed.length, 1)
        assert.strictEqual(
          all.filter((call) => call.code === null).length,
          killed.length,
          "only the killed calls ended without an exit code"
        )
        assert.deepStrictEqual(failures(all).map((call) => `${call.machine}: ${call.stderr}`), [], "no call failed")
        assert.isAtMost(stats.authorizeIntegrated, 2, "the login, and at most one re-authorize")
        const after = all.filter((call) => call.code === 0)
        assert.isAbove(
          after.length,
          killed.length,
          `the replicas carried on: ${JSON.stringify(all.map((call) => [call.machine, call.code]))}`
        )
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    150_000
  )

  it.scopedLive(
    "the device grant, nothing stored: one prompt for everyone, the same token for all",
    () =>
      Effect.gen(function*() {
        // Tokens of an hour: no refresh window passes while the person approves.
        const { on, served } = yield* deployment(kind, "1 hour")
        const runs = yield* Effect.all(
          Array.from(
            { length: 3 },
            (_, i) => on(`replica-${i}`, ["token", ...selectors(served.url), "--grant", "device"])
          ),
          { concurrency: "unbounded" }
        )
        for (const run of runs) assert.strictEqual(run.code, 0, run.stderr)
        assert.strictEqual(new Set(runs.map((run) => run.stdout)).size, 1, "one token for all")
        assert.strictEqual(runs.filter((run) => run.stderr.includes("enter the code")).length, 1, "one prompt")
        assert.strictEqual((yield* served.simulator.stats).authorizeDevice, 1, "one device authorization started")
      }).pipe(Effect.provide(NodeFileSystem.layer)),
    120_000
  )
})

// The tokens in the order they were first seen.
const distinctInOrder = (
  calls: ReadonlyArray<Call>
) => [...new Set(calls.filter((call) => call.code === 0).map((call) => call.token))]

/** `machine` calls `vedauth token` for the server at `url` again and again until `until` (epoch millis). */
const loopAt = <E>(
  on: (machine: string, args: ReadonlyArray<string>, env?: Record<string, string>) => Effect.Effect<Run, E>,
  machine: string,
  until: number,
  calls: Ref.Ref<ReadonlyArray<Call>>,
  url: string,
  env: Record<string, string> = {}
) =>
  Effect.gen(function*() {
    while (Date.now() < until) {
      const run = yield* on(machine, ["token", ...selectors(url)], env)
      yield* Ref.update(
        calls,
        (all) => [...all, { machine, code: run.code, token: run.stdout.trim(), stderr: run.stderr }]
      )
    }
  })
