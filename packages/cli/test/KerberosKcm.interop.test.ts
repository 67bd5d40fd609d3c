/**
 * Interop: RHEL's way, `kinit` then `vedauth login` with nothing else. krb5.conf says
 * `default_ccache_name = KCM:` and names a private sssd-kcm's socket (`kcm_socket`); KRB5CCNAME is
 * not set. MIT's `kinit` puts alice's TGT in KCM; `vedauth login` with no user and no password finds
 * the cache through krb5.conf, reads it over the KCM protocol, gets the service ticket from the MIT
 * realm's KDC, authorizes at the simulator, and stores the ticket back in KCM (MIT's `klist` shows
 * it); `token` after `revoke` needs no KDC at all.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { REALM, type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { type Kcm, startKcm } from "@vedauth/test-helpers/sssdKcm"
import { Simulator } from "@vedauth/testing"
import { Effect, Layer } from "effect"
import { execFile, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Path from "node:path"
import { promisify } from "node:util"
import { type Run, runCli } from "./support/runCli.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)
const run = promisify(execFile)
let realm: Realm
let kcm: Kcm
let conf: string
let proxy: Net.Server
// Each KCM request is one connection: counted by a proxy in front of sssd-kcm's socket.
let connections = 0

beforeAll(async () => {
  ;[realm, kcm] = await Promise.all([startRealm([alice]), startKcm()])
  const proxySocket = Path.join(kcm.dir, "counted.socket")
  proxy = Net.createServer((client) => {
    connections++
    const daemon = Net.connect(kcm.socket)
    client.pipe(daemon).pipe(client)
    client.on("error", () => daemon.destroy())
    daemon.on("error", () => client.destroy())
  })
  await new Promise<void>((resolve) => proxy.listen(proxySocket, resolve))
  conf = Path.join(kcm.dir, "krb5.conf")
  const krb5Conf = kcm.withKcm(await Fs.readFile(realm.env["KRB5_CONFIG"]!, "utf8"))
  await Fs.writeFile(conf, krb5Conf.replace(`kcm_socket = ${kcm.socket}`, `kcm_socket = ${proxySocket}`))
}, 60_000)
afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve))
  await Promise.all([realm?.stop(), kcm?.stop()])
})

// MIT's tools with this krb5.conf only: their cache is KCM by default_ccache_name.
const mitEnv = () => ({ PATH: process.env["PATH"] ?? "", KRB5_CONFIG: conf })

const kinit = Effect.promise(() =>
  new Promise<void>((resolve, reject) => {
    const child = spawn("kinit", [`${alice.name}@${REALM}`], { env: mitEnv(), stdio: ["pipe", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("error", reject)
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`kinit exited with ${code}: ${stderr}`))))
    child.stdin.end(`${alice.password}\n`)
  })
)

const simulator = Effect.gen(function*() {
  const serviceKeytab = yield* Kerberos.readKeytab(yield* Effect.promise(() => realm.keytab(SPN, "http.keytab")))
  const served = yield* Simulator.serve({
    protocol: "http",
    users: [{ name: alice.name, domain: REALM.split(".")[0]!, password: Simulator.defaultCredentials.password }],
    kerberos: { realm: REALM, serviceKeytab }
  })
  const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped({ prefix: "vedauth-cli-kcm-" })
  const args = [
    "--url",
    served.url,
    "--client-id",
    Simulator.defaultClientId,
    "--scope",
    "certificate:manage",
    "--spn",
    SPN
  ]
  return { served, args, env: { HOME: dir, KRB5_CONFIG: conf } }
})

describe("vedauth with a KCM credential cache (sssd-kcm)", () => {
  it.scopedLive("kinit, then login with no user, no password and no KRB5CCNAME: the cache found by krb5.conf, the service ticket stored back in KCM", () =>
    Effect.gen(function*() {
      const { args, env, served } = yield* simulator
      yield* kinit
      connections = 0
      ok(yield* runCli(["login", ...args], { env }))
      // The user's principal (GET_DEFAULT_CACHE, GET_PRINCIPAL), then the cache read (the same two
      // and GET_CRED_LIST) and the service ticket stored.
      const loginRequests = connections
      const status = JSON.parse((yield* runCli(["status", "--json"], { env })).stdout)
      assert.strictEqual(status.grants[0].user, `${alice.name}@${REALM.toLowerCase()}`)
      const { stdout } = yield* Effect.promise(() => run("klist", [], { env: mitEnv() }))
      assert.match(stdout, /^Ticket cache: KCM:/m)
      assert.include(stdout, `${SPN}@${REALM}`)
      // The grant revoked, `token` authorizes again from KCM's service ticket alone: the KDC is stopped.
      ok(yield* runCli(["revoke"], { env }))
      yield* Effect.promise(() => realm.stop())
      connections = 0
      const token = yield* runCli(["token"], { env })
      ok(token)
      // token: the same reads, nothing stored.
      assert.deepStrictEqual({ login: loginRequests, token: connections }, { login: 6, token: 5 })
      assert.match(token.stdout, /^\S+\n$/)
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [1, 1])
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))
})
