/**
 * Negotiate (Kerberos) to a real proxy: Debian's squid with `negotiate_kerberos_auth`, private on
 * loopback, holding the MIT realm's key for `HTTP/localhost` (the proxy is named `localhost`: MIT
 * refuses SPNs for IP addresses). The simulator holds the same realm's key for TPP's own SPN, so
 * an NTLM login and a Kerberos login each go through tunnels the proxy opened for alice's ticket.
 * Squid's access log shows the user of each CONNECT; the MIT KDC's log, each ticket issued.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeTokenStoreFiles, NodeVedAuth } from "@vedauth/platform-node"
import type * as NodeNtlmTransport from "@vedauth/platform-node/NodeNtlmTransport"
import { type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { type AccessLine, squid } from "@vedauth/test-helpers/squid"
import { Effect, Layer, Redacted } from "effect"
import * as Simulator from "../src/Simulator.js"

const password = Simulator.defaultCredentials.password
let realm: Realm
let tppSpn: string
let proxyKeytab: string
// Made before `proxyKeytab`, whose `ktadd` gave HTTP/localhost new keys: squid with it refuses every ticket.
let staleKeytab: string

beforeAll(async () => {
  realm = await startRealm([{ name: "alice", password: Redacted.value(password) }])
  tppSpn = SPN
  await realm.kadmin("addprinc -randkey HTTP/localhost")
  staleKeytab = await realm.keytab("HTTP/localhost", "stale-proxy.keytab")
  proxyKeytab = await realm.keytab("HTTP/localhost", "proxy.keytab")
}, 30_000)
afterAll(() => realm?.stop())

type Mechanism = "ntlm" | "kerberos"

/** The simulator in the MIT realm: alice is VEDAUTH\alice (NTLM) and alice@VEDAUTH.TEST, its acceptor has MIT's key for TPP's SPN. */
const served = Effect.gen(function*() {
  const serviceKeytab = yield* Kerberos.readKeytab(yield* Effect.promise(() => realm.keytab(tppSpn, "tpp.keytab")))
  return yield* Simulator.serve({
    users: [{ name: "alice", domain: realm.realm.split(".")[0]!, password }],
    kerberos: { realm: realm.realm, serviceKeytab }
  })
})

/** An authorize, then verify, refresh and revoke, on one `NodeVedAuth` layer through `proxy`. */
const session = (
  server: Simulator.Served,
  mechanism: Mechanism | "ntlm-only",
  proxy: string,
  transport: NodeNtlmTransport.Options = {}
) =>
  Effect.gen(function*() {
    const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
    const kerberos = { kdc: `127.0.0.1:${realm.kdc.port}`, realm: realm.realm }
    const layer = NodeVedAuth.layer({
      url: server.url,
      clientId: Simulator.defaultClientId,
      scope: "certificate:manage",
      password,
      ...(mechanism === "kerberos"
        ? { username: `alice@${realm.realm}`, mechanism: "kerberos", kerberos: { ...kerberos, spn: tppSpn } }
        // NTLM to TPP; the Kerberos settings are there for the proxy alone (none with "ntlm-only").
        : {
          username: `${realm.realm.split(".")[0]}\\alice`,
          mechanism: "ntlm",
          ...(mechanism === "ntlm" ? { kerberos } : {})
        }),
      tokenStorePath: `${dir}/tokens.json`,
      transport: { ca: server.caPem!, proxy, ...transport }
    })
    return yield* Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      yield* VedAuth.verify(grant.accessToken)
      const refreshed = yield* VedAuth.refresh(grant)
      yield* VedAuth.revoke(refreshed)
      return grant
    }).pipe(Effect.provide(layer))
  })

const connects = (log: ReadonlyArray<AccessLine>) => log.filter((line) => line.method === "CONNECT")
const negotiating = () => squid({ negotiate: { keytab: proxyKeytab, krb5Conf: realm.env["KRB5_CONFIG"]! } })
const platform = Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)
const issued = (log: string, what: "AS_REQ" | "TGS_REQ", principal: string) =>
  log.split("\n").filter((line) => line.includes(what) && line.includes(principal)).length

describe("Negotiate to squid (negotiate_kerberos_auth, MIT realm)", () => {
  for (const mechanism of ["ntlm", "kerberos"] as const) {
    it.live(`${mechanism} login through it: one 407, then every CONNECT carries alice's ticket for HTTP/localhost`, () =>
      Effect.gen(function*() {
        const server = yield* served
        const proxy = yield* negotiating()
        const kdcBefore = yield* Effect.promise(() => realm.kdcLog())
        const grant = yield* session(server, mechanism, proxy.url(undefined, "localhost"))
        assert.strictEqual(grant.scope, "certificate:manage")
        const stats = yield* server.simulator.stats
        assert.deepStrictEqual(stats.roundTripsPerHandshake, [mechanism === "ntlm" ? 2 : 1])
        const log = connects(yield* proxy.stop)
        // The first CONNECT is refused (the proxy asks for Negotiate), the next one on that
        // connection carries the token; later tunnels send it at once: one 407 in all.
        assert.deepStrictEqual(
          log.filter((line) => line.result !== "TCP_TUNNEL/200").map((line) => `${line.result} ${line.user}`),
          ["TCP_DENIED/407 -"]
        )
        const tunnels = log.filter((line) => line.result === "TCP_TUNNEL/200")
        assert.strictEqual(tunnels.length, stats.connections)
        for (const line of tunnels) assert.strictEqual(line.user, `alice@${realm.realm}`)
        // One ticket for the proxy, kept for the layer's later tunnels (and TPP's own with Kerberos).
        const kdcLog = (yield* Effect.promise(() => realm.kdcLog())).slice(kdcBefore.length)
        assert.strictEqual(issued(kdcLog, "TGS_REQ", `HTTP/localhost@${realm.realm}`), 1)
        assert.strictEqual(issued(kdcLog, "TGS_REQ", `${tppSpn}@${realm.realm}`), mechanism === "kerberos" ? 1 : 0)
      }).pipe(Effect.provide(platform), Effect.scoped))
  }

  it.live("alice's keytab (no password): a Kerberos login through it, the proxy's ticket from the same keytab", () =>
    Effect.gen(function*() {
      const server = yield* served
      const proxy = yield* negotiating()
      const keytab = yield* Effect.promise(() =>
        realm.keytab(`alice@${realm.realm}`, "alice.keytab", { keepKeys: true })
      )
      const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
      const grant = yield* VedAuth.authorize().pipe(
        Effect.provide(NodeVedAuth.layer({
          url: server.url,
          clientId: Simulator.defaultClientId,
          scope: "certificate:manage",
          mechanism: "kerberos",
          kerberos: { kdc: `127.0.0.1:${realm.kdc.port}`, realm: realm.realm, spn: tppSpn, keytab },
          tokenStorePath: `${dir}/tokens.json`,
          transport: { ca: server.caPem!, proxy: proxy.url(undefined, "localhost") }
        }))
      )
      assert.strictEqual(grant.scope, "certificate:manage")
      const log = connects(yield* proxy.stop)
      assert.deepStrictEqual(log.map((line) => `${line.result} ${line.user}`), [
        "TCP_DENIED/407 -",
        `TCP_TUNNEL/200 alice@${realm.realm}`
      ])
    }).pipe(Effect.provide(platform), Effect.scoped))

  it.live("a client with no Kerberos for the proxy: the typed 407, one CONNECT, nothing reaches TPP", () =>
    Effect.gen(function*() {
      const server = yield* served
      const proxy = yield* negotiating()
      const error = yield* Effect.flip(session(server, "ntlm-only", proxy.url(undefined, "localhost")))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(
        (error as { detail: string }).detail,
        `proxy authentication required by the proxy localhost:${proxy.port} (it offers Negotiate)`
      )
      assert.strictEqual((yield* server.simulator.stats).requests, 0)
      assert.deepStrictEqual(connects(yield* proxy.stop).map((line) => line.result), ["TCP_DENIED/407"])
    }).pipe(Effect.provide(platform), Effect.scoped))

  it.live("a ticket the proxy refuses: one retry with the token, then the typed 407 naming the ticket; no token in it", () =>
    Effect.gen(function*() {
      const server = yield* served
      const proxy = yield* squid({ negotiate: { keytab: staleKeytab, krb5Conf: realm.env["KRB5_CONFIG"]! } })
      const error = yield* Effect.flip(session(server, "ntlm", proxy.url(undefined, "localhost")))
      const detail = (error as { detail: string }).detail
      assert.strictEqual(error._tag, "TransportError")
      assert.include(
        detail,
        `proxy authentication required by the proxy localhost:${proxy.port} (it offers Negotiate): the proxy refused the Kerberos ticket of alice@${realm.realm} for HTTP/localhost`
      )
      assert.notMatch(JSON.stringify(error), /Negotiate [A-Za-z0-9+/]{20}/)
      assert.strictEqual((yield* server.simulator.stats).requests, 0)
      assert.deepStrictEqual(connects(yield* proxy.stop).map((line) => line.result), [
        "TCP_DENIED/407",
        "TCP_DENIED/407"
      ])
    }).pipe(Effect.provide(platform), Effect.scoped))

  it.live("the proxy named by its IP address: no SPN for it (MIT refuses them), the typed 407 says so", () =>
    Effect.gen(function*() {
      const server = yield* served
      const proxy = yield* negotiating()
      const error = yield* Effect.flip(session(server, "ntlm", proxy.url()))
      const detail = (error as { detail: string }).detail
      assert.include(
        detail,
        `proxy authentication required by the proxy 127.0.0.1:${proxy.port} (it offers Negotiate): no Kerberos ticket for it: SPN_FOR_IP_ADDRESS`
      )
      assert.strictEqual((yield* server.simulator.stats).requests, 0)
      assert.deepStrictEqual(connects(yield* proxy.stop).map((line) => line.result), ["TCP_DENIED/407"])
    }).pipe(Effect.provide(platform), Effect.scoped))
})
