/**
 * `vedauth login --system-kerberos`: the operating system's own tickets through the optional
 * `kerberos` addon (MIT's GSS-API here, after `kinit` into a throwaway MIT realm). The bundled
 * command finds the addon the way Node resolves any package from the bundle's file: in the
 * repository that is the workspace's `node_modules` (built by `pnpm kerberos-addon`, which
 * `pnpm test:all` runs first); the same bundle copied to a folder with no `node_modules` above it
 * cannot load it, and says why and what to do.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { Simulator } from "@vedauth/testing"
import { Effect, Layer } from "effect"
import { cpSync } from "node:fs"
import { dirname, join } from "node:path"
import { bin, collect, runCli } from "./support/runCli.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
let realm: Realm

beforeAll(async () => {
  realm = await startRealm([alice])
}, 30_000)
afterAll(() => realm?.stop())

const files = Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)

// The simulator in the MIT realm, its acceptor holding MIT's HTTP/ key; a fresh HOME.
const simulator = Effect.gen(function*() {
  const serviceKeytab = yield* Kerberos.readKeytab(yield* Effect.promise(() => realm.keytab(SPN, "http.keytab")))
  const served = yield* Simulator.serve({
    protocol: "http",
    users: [{ name: "alice", domain: realm.realm.split(".")[0]!, password: Simulator.defaultCredentials.password }],
    kerberos: { realm: realm.realm, serviceKeytab }
  })
  const home = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped({ prefix: "vedauth-cli-system-" })
  const args = [
    "login",
    "--url",
    served.url,
    "--client-id",
    Simulator.defaultClientId,
    "--scope",
    "certificate:manage",
    "--spn",
    SPN,
    "--username",
    `alice@${realm.realm}`,
    "--system-kerberos",
    "--json"
  ]
  const cache = yield* Effect.promise(() => realm.kinit(alice, "alice.ccache"))
  // KRB5CCNAME reaches MIT's library in the command's process, not our reader.
  const env = { HOME: home, KRB5_CONFIG: realm.env["KRB5_CONFIG"]!, KRB5CCNAME: `FILE:${cache}` }
  return { served, args, env, home }
})

describe("vedauth --system-kerberos", () => {
  it.scopedLive("with the addon where Node finds it from the bundle: kinit, then login with no password, one HTTP round trip", () =>
    Effect.gen(function*() {
      const { args, env, served } = yield* simulator
      const login = yield* runCli(args, { env })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.strictEqual(JSON.parse(login.stdout).scope, "certificate:manage")
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [1])
    }).pipe(Effect.provide(files)))

  it.scopedLive("the same bundle copied where no node_modules holds the addon: SYSTEM_KERBEROS_UNAVAILABLE, saying the bundle cannot carry it and where to install it", () =>
    Effect.gen(function*() {
      const { args, env, home, served } = yield* simulator
      const alone = join(home, "vedauth-alone")
      cpSync(dirname(bin), alone, { recursive: true })
      const run = yield* collect(process.execPath, [join(alone, "vedauth.mjs"), ...args], {
        cwd: home,
        env: { PATH: process.env["PATH"] ?? "", ...env }
      })
      assert.strictEqual(run.code !== 0, true, run.stdout)
      assert.include(run.stderr, "SYSTEM_KERBEROS_UNAVAILABLE")
      assert.include(run.stderr, "single bundled file")
      assert.include(run.stderr, "npm i kerberos@7 in the folder vedauth is installed in")
      // Nothing reached the server: no token was asked for without a ticket.
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [])
    }).pipe(Effect.provide(files)))
})
