/**
 * Interop: `vedauth` with MIT Kerberos' own credentials, no user and no password. A throwaway MIT
 * realm on loopback (krb5kdc, kadmin.local, kinit); `kinit` writes a FILE: cache and `kadmin ktadd`
 * a keytab; the simulator's acceptor holds the MIT realm's service key, so the service tickets MIT's
 * KDC issues (through our TGS request) are what authorizes. MIT's klist reads back the cache we
 * updated.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { Simulator } from "@vedauth/testing"
import { Effect, Layer } from "effect"
import { writeFile } from "node:fs/promises"
import { klist } from "./support/kerberosCli.js"
import { type Run, runCli } from "./support/runCli.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)
const spn = SPN
let realm: Realm

beforeAll(async () => {
  realm = await startRealm([alice])
}, 30_000)
afterAll(() => realm?.stop())

// The simulator in the MIT realm: alice is VEDAUTH\alice, and its acceptor has MIT's HTTP/ key.
const simulator = Effect.gen(function*() {
  const path = yield* Effect.promise(() => realm.keytab(spn, "http.keytab"))
  const serviceKeytab = yield* Kerberos.readKeytab(path)
  const served = yield* Simulator.serve({
    protocol: "http",
    users: [{ name: "alice", domain: realm.realm.split(".")[0]!, password: Simulator.defaultCredentials.password }],
    kerberos: { realm: realm.realm, serviceKeytab }
  })
  const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped({ prefix: "vedauth-cli-mit-" })
  const args = [
    "--url",
    served.url,
    "--client-id",
    Simulator.defaultClientId,
    "--scope",
    "certificate:manage",
    "--spn",
    spn
  ]
  return { served, args, env: { HOME: dir, KRB5_CONFIG: realm.env["KRB5_CONFIG"]! } }
})

describe("vedauth with MIT Kerberos credentials", () => {
  it.scopedLive("kinit's cache (KRB5CCNAME): login and token with no user and no password; klist reads the ticket we added", () =>
    Effect.gen(function*() {
      const { args, env, served } = yield* simulator
      const cache = yield* Effect.promise(() => realm.kinit(alice, "alice.ccache"))
      const withCache = { ...env, KRB5CCNAME: `FILE:${cache}` }
      ok(yield* runCli(["login", ...args], { env: withCache }))
      const status = JSON.parse((yield* runCli(["status", "--json"], { env: withCache })).stdout)
      assert.strictEqual(status.grants[0].user, `alice@${realm.realm.toLowerCase()}`)
      assert.include(yield* klist(cache, withCache), `${spn}@${realm.realm}`)
      // The grant revoked, `token` authorizes again from the profile and the cache alone.
      ok(yield* runCli(["revoke"], { env: withCache }))
      const token = yield* runCli(["token"], { env: withCache })
      ok(token)
      assert.match(token.stdout, /^\S+\n$/)
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [1, 1])
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))

  it.scopedLive("--username 'VEDAUTH\\alice' (a NetBIOS domain) with a password and only KRB5_CONFIG: the realm is krb5.conf's default_realm, Kerberos authorizes", () =>
    Effect.gen(function*() {
      const { args, env, served } = yield* simulator
      const domain = realm.realm.split(".")[0]!
      const login = yield* runCli([
        "login",
        ...args,
        "--username",
        `${domain}\\alice`,
        "--mechanism",
        "kerberos",
        "--json"
      ], { env: { ...env, VEDAUTH_PASSWORD: alice.password } })
      ok(login)
      assert.strictEqual(JSON.parse(login.stdout).scope, "certificate:manage")
      // One HTTP round trip: the AP-REQ of MIT's ticket for alice@VEDAUTH.TEST, no NTLM.
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [1])
      assert.deepStrictEqual((yield* served.simulator.stats).rejections, {})
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))

  it.scopedLive("--username 'OTHER\\alice' with krb5.conf's default_realm: the enterprise name alice@OTHER goes to VEDAUTH.TEST's KDC; MIT's KDC has no such name (it resolves enterprise names only through aliases) and says so", () =>
    Effect.gen(function*() {
      const { args, env, served } = yield* simulator
      const login = yield* runCli(["login", ...args, "--username", "OTHER\\alice", "--mechanism", "kerberos"], {
        env: { ...env, VEDAUTH_PASSWORD: alice.password }
      })
      assert.notStrictEqual(login.code, 0)
      assert.include(login.stderr, "KDC_ERR_C_PRINCIPAL_UNKNOWN")
      assert.include(login.stderr, "alice@OTHER")
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [])
      const kdcLog = yield* Effect.promise(() => realm.kdcLog())
      assert.match(kdcLog, /alice\\@OTHER@VEDAUTH\.TEST/)
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))

  it.scopedLive("--username 'OTHER\\alice' with an empty krb5.conf and no realm: the error names the guessed realm OTHER and how to set it", () =>
    Effect.gen(function*() {
      const { args, env } = yield* simulator
      const empty = `${env.HOME}/empty-krb5.conf`
      yield* Effect.promise(() => writeFile(empty, ""))
      const login = yield* runCli(["login", ...args, "--username", "OTHER\\alice", "--mechanism", "kerberos"], {
        env: { ...env, KRB5_CONFIG: empty, VEDAUTH_PASSWORD: alice.password }
      })
      assert.notStrictEqual(login.code, 0)
      assert.include(login.stderr, "realm OTHER was only a guess")
      assert.include(login.stderr, "--realm")
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))

  it.scopedLive("a keytab from kadmin ktadd through KRB5_CLIENT_KTNAME: the user is its principal, no password", () =>
    Effect.gen(function*() {
      const { args, env, served } = yield* simulator
      const keytab = yield* Effect.promise(() =>
        realm.keytab(`alice@${realm.realm}`, "alice.keytab", { keepKeys: true })
      )
      const login = yield* runCli(["login", ...args, "--json"], {
        env: { ...env, KRB5_CLIENT_KTNAME: `FILE:${keytab}` }
      })
      ok(login)
      assert.strictEqual(JSON.parse(login.stdout).scope, "certificate:manage")
      const status = JSON.parse((yield* runCli(["status", "--json"], { env })).stdout)
      assert.strictEqual(status.grants[0].user, `alice@${realm.realm.toLowerCase()}`)
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [1])
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))
})
