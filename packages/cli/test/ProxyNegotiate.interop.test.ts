/**
 * `vedauth` through a squid that requires Negotiate (`negotiate_kerberos_auth` with the MIT realm's
 * key for `HTTP/localhost`): with kinit's cache (KRB5CCNAME) the login and verify go through, each
 * run's tunnels as alice, the proxy's ticket written to the cache for the next run; an NTLM login
 * with no Kerberos at all exits 4, "proxy authentication required", and TPP sees nothing.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { type AccessLine, squid } from "@vedauth/test-helpers/squid"
import { Simulator } from "@vedauth/testing"
import { Effect, Layer, Redacted } from "effect"
import { join } from "node:path"
import { fails, ok } from "./support/grants.js"
import { klist } from "./support/kerberosCli.js"
import { runCli } from "./support/runCli.js"

const password = Redacted.value(Simulator.defaultCredentials.password)
const alice = { name: "alice", password }
let realm: Realm
let spn: string
let proxyKeytab: string

beforeAll(async () => {
  realm = await startRealm([alice])
  spn = SPN
  await realm.kadmin("addprinc -randkey HTTP/localhost")
  proxyKeytab = await realm.keytab("HTTP/localhost", "proxy.keytab")
}, 30_000)
afterAll(() => realm?.stop())

const connects = (log: ReadonlyArray<AccessLine>) => log.filter((line) => line.method === "CONNECT")

// The simulator over HTTPS in the MIT realm, and squid requiring Negotiate, named `localhost` (an SPN needs a name).
const setup = Effect.gen(function*() {
  const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped({ prefix: "vedauth-cli-negotiate-" })
  const served = yield* Simulator.serve({
    caPemPath: join(dir, "tpp.pem"),
    users: [{ name: "alice", domain: realm.realm.split(".")[0]!, password: Simulator.defaultCredentials.password }],
    kerberos: {
      realm: realm.realm,
      serviceKeytab: yield* Kerberos.readKeytab(yield* Effect.promise(() => realm.keytab(spn, "tpp.keytab")))
    }
  })
  const proxy = yield* squid({ negotiate: { keytab: proxyKeytab, krb5Conf: realm.env["KRB5_CONFIG"]! } })
  const server = [
    "--url",
    served.url,
    "--client-id",
    Simulator.defaultClientId,
    "--scope",
    "certificate:manage",
    "--proxy",
    proxy.url(undefined, "localhost")
  ]
  const env = { HOME: dir, VEDAUTH_CA_FILE: join(dir, "tpp.pem"), KRB5_CONFIG: realm.env["KRB5_CONFIG"]! }
  return { served, proxy, server, env }
})

describe("vedauth through a proxy that requires Negotiate", () => {
  it.scopedLive("kinit's cache: login and verify through it as alice; the proxy's ticket joins the cache", () =>
    Effect.gen(function*() {
      const { env, proxy, served, server } = yield* setup
      const cache = yield* Effect.promise(() => realm.kinit(alice, "alice.ccache"))
      const withCache = { ...env, KRB5CCNAME: `FILE:${cache}` }
      ok(yield* runCli(["login", ...server, "--mechanism", "kerberos", "--spn", spn], { env: withCache }))
      ok(yield* runCli(["verify", ...server], { env: withCache }))
      assert.include(yield* klist(cache, withCache), `HTTP/localhost@${realm.realm}`)
      const stats = yield* served.simulator.stats
      const log = connects(yield* proxy.stop)
      // Each run asks once and is refused once (a new process has not yet learnt the proxy wants Negotiate).
      assert.deepStrictEqual(log.filter((line) => line.result === "TCP_DENIED/407").length, 2)
      const tunnels = log.filter((line) => line.result === "TCP_TUNNEL/200")
      assert.strictEqual(tunnels.length, stats.connections)
      for (const line of tunnels) assert.strictEqual(line.user, `alice@${realm.realm}`)
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))

  it.scopedLive("an NTLM login with no Kerberos for the proxy exits 4, proxy authentication required; TPP sees nothing", () =>
    Effect.gen(function*() {
      const { env, proxy, served, server } = yield* setup
      const run = yield* runCli([
        "login",
        ...server,
        "--mechanism",
        "ntlm",
        "--username",
        `${realm.realm.split(".")[0]}\\alice`
      ], {
        env: { ...env, VEDAUTH_PASSWORD: password }
      })
      fails(
        run,
        4,
        new RegExp(`proxy authentication required by the proxy localhost:${proxy.port} \\(it offers Negotiate\\)`)
      )
      assert.strictEqual((yield* served.simulator.stats).requests, 0)
      assert.deepStrictEqual(connects(yield* proxy.stop).map((line) => line.result), ["TCP_DENIED/407"])
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))
})
