/**
 * Fixtures for the shared-store tests: the simulator, a real redis-server (store-redis's own
 * fixture: plain, or TLS with an ACL user) and one HOME folder per CLI "machine".
 */
import { FileSystem } from "@effect/platform"
import { assert } from "@effect/vitest"
import { redisServer, type RedisServerOptions } from "@vedauth/test-helpers/redisServer"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { type Run, runCli } from "./runCli.js"

export const password = Redacted.value(Simulator.defaultCredentials.password)
/** The ACL user the Redis URL carries: its password must never be shown. */
export const redisUser = { name: "vedauth-cli", password: "Redis-S3cret-pw" }

export const selectors = (
  url: string
) => ["--url", url, "--client-id", Simulator.defaultClientId, "--scope", "certificate:manage"]

/**
 * A simulator, a redis-server, and `on(machine)`: runs `vedauth` with that machine's own HOME and
 * the store URL in VEDAUTH_TOKEN_STORE (plus `env`).
 */
export const sharedSetup = (redis: RedisServerOptions = { user: redisUser }) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const served = yield* Simulator.serve({ protocol: "http" })
    const server = yield* redisServer(redis)
    const root = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-shared-" })
    const homes = new Map<string, string>()
    const home = (machine: string) =>
      Effect.gen(function*() {
        const known = homes.get(machine)
        if (known !== undefined) return known
        const dir = `${root}/${machine}`
        yield* fs.makeDirectory(dir)
        homes.set(machine, dir)
        return dir
      })
    const storeUrl = Redacted.value(server.url)
    const on = (
      machine: string,
      args: ReadonlyArray<string>,
      options: { readonly env?: Record<string, string>; readonly stdin?: string } = {}
    ) =>
      Effect.flatMap(home(machine), (dir) =>
        runCli(args, {
          env: { HOME: dir, VEDAUTH_TOKEN_STORE: storeUrl, ...options.env },
          ...(options.stdin === undefined ? {} : { stdin: options.stdin })
        }))
    const login = (machine: string, args: ReadonlyArray<string> = [], env: Record<string, string> = {}) =>
      on(machine, ["login", ...selectors(served.url), "--username", "CORP\\alice", "--password-stdin", ...args], {
        env,
        stdin: password
      })
    return { fs, served, server, storeUrl, root, home, on, login }
  })

/** Exit 0, else fail showing stderr. */
export const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)
