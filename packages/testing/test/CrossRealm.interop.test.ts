/**
 * Interop, cross-realm: two MIT realms and a trust (`@vedauth/test-helpers/mitRealm` `startTrust`),
 * alice in USERS.TEST, TPP's SPN `HTTP/tpp.services.test` in SERVICES.TEST, each realm its own
 * `krb5kdc`. The service realm is found (a) up front by the client's krb5.conf `[domain_realm]`, or
 * (b) by the users' KDC's referral (its own profile maps `.services.test`), and (c) from `kinit`'s
 * cache, the new tickets written back where `klist` lists them. MIT's `kvno` follows the same
 * referral. Then a whole authorize against the simulator holding SERVICES.TEST's key, by both routes.
 * The TGS requests vedauth sends are recorded on their way to the KDCs; the engine counts round trips.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { KdcTransport, Kerberos } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeKdcTransport, NodeTokenStoreFiles, NodeVedAuth } from "@vedauth/platform-node"
import { mitTool, SERVICES_REALM, startTrust, type Trust, TRUST_SPN, USERS_REALM } from "@vedauth/test-helpers/mitRealm"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as kdc from "../../winauth/src/internal/kerberos/kdcMessages.js"
import * as Simulator from "../src/Simulator.js"

const alice = { name: "alice", password: Redacted.value(Simulator.defaultCredentials.password) }
let trust: Trust

beforeAll(async () => {
  trust = await startTrust([alice])
}, 30_000)
afterAll(() => trust?.stop())

type Route = "mapped" | "referral"

/** vedauth with one of the client krb5.conf files (read through Effect's Config, as KRB5_CONFIG). */
const withConf = (route: Route) =>
  Effect.withConfigProvider(
    ConfigProvider.fromMap(new Map([["KRB5_CONFIG", trust.conf[route]]])).pipe(
      ConfigProvider.orElse(() => ConfigProvider.fromEnv())
    )
  )
/** Every request's server name and KDC realm field, as vedauth sent it: which route was taken. */
const sent: Array<string> = []
const recording = Layer.effect(
  KdcTransport.KdcTransport,
  Effect.map(KdcTransport.KdcTransport, (transport) => ({
    ...transport,
    send: (address: KdcTransport.KdcAddress, message: Uint8Array) => {
      const req = kdc.decodeKdcReq(message)
      if (req.msgType === kdc.MsgType.tgsReq) sent.push(`${req.sname.components.join("/")}@${req.realm}`)
      return transport.send(address, message)
    }
  }))
).pipe(Layer.provide(NodeKdcTransport.layer({ timeout: "5 seconds" })))
const live = Layer.mergeAll(recording, NodeFileSystem.layer, NodeTokenStoreFiles.layer)

const cacheFile = (name: string) => Path.join(trust.users.dir, name)

const password = (route: Route) =>
  Kerberos.getTicket({
    principal: `alice@${USERS_REALM}`,
    keySource: { _tag: "Password", password: Redacted.make(alice.password) },
    spn: TRUST_SPN
  }).pipe(withConf(route), Effect.provide(live))

const klist = (cache: string) => Effect.promise(() => mitTool("klist", ["-c", `FILE:${cache}`], trust.env.mapped))

describe("cross-realm with a password, two MIT KDCs", () => {
  for (const route of ["mapped", "referral"] as const) {
    it.live(`${route === "mapped" ? "(a) by [domain_realm]" : "(b) by the KDC's referral"}: AS, then TGS at USERS.TEST, then TGS at SERVICES.TEST: 4 round trips`, () =>
      Effect.gen(function*() {
        sent.length = 0
        const ticket = yield* password(route)
        assert.strictEqual(ticket.client, `alice@${USERS_REALM}`)
        assert.strictEqual(ticket.server, `${TRUST_SPN}@${SERVICES_REALM}`)
        // AS twice (pre-authentication), the cross-realm TGT, the service ticket.
        assert.strictEqual(ticket.kdcRoundTrips, 4)
        // (a) asks USERS.TEST for krbtgt/SERVICES.TEST directly; (b) asks it for the service and is referred.
        assert.deepStrictEqual(sent, [
          route === "mapped" ? `krbtgt/${SERVICES_REALM}@${USERS_REALM}` : `${TRUST_SPN}@${USERS_REALM}`,
          `${TRUST_SPN}@${SERVICES_REALM}`
        ])
      }))
  }

  it.live("MIT's kvno follows the same referral (no [domain_realm] for the host) and gets the same service's ticket", () =>
    Effect.gen(function*() {
      const cache = yield* Effect.promise(() => trust.users.kinit(alice, "kvno.ccache"))
      const trace = cacheFile("kvno.trace")
      const env = { ...trust.env.referral, KRB5CCNAME: `FILE:${cache}`, KRB5_TRACE: trace }
      const kvno = yield* Effect.promise(() => mitTool("kvno", ["-C", "-S", "HTTP", "tpp.services.test"], env))
      assert.isTrue(kvno.ok, kvno.stderr)
      assert.include(
        yield* Effect.promise(() => Fs.readFile(trace, "utf8")),
        `Following referral TGT krbtgt/${SERVICES_REALM}@${USERS_REALM}`
      )
      // MIT keeps the service ticket only (not the referral TGT), as both realms' tickets are in one cache.
      const listed = yield* klist(cache)
      assert.include(listed.stdout, TRUST_SPN)
    }))
})

describe("cross-realm from kinit's cache", () => {
  for (const route of ["mapped", "referral"] as const) {
    it.live(`(c) ${route}: kinit in USERS.TEST; vedauth gets the cross-realm TGT and the ticket (2 round trips), writes both back (klist lists them), then 0`, () =>
      Effect.gen(function*() {
        const cache = yield* Effect.promise(() => trust.users.kinit(alice, `kinit-${route}.ccache`))
        const get = Kerberos.getTicket({ keySource: { _tag: "CacheOnly" }, spn: TRUST_SPN, cache: `FILE:${cache}` })
          .pipe(withConf(route), Effect.provide(live))
        const first = yield* get
        assert.strictEqual(first.client, `alice@${USERS_REALM}`)
        assert.strictEqual(first.server, `${TRUST_SPN}@${SERVICES_REALM}`)
        assert.strictEqual(first.kdcRoundTrips, 2)
        const listed = yield* klist(cache)
        assert.isTrue(listed.ok, listed.stderr)
        assert.include(listed.stdout, `Default principal: alice@${USERS_REALM}`)
        assert.include(listed.stdout, `krbtgt/${USERS_REALM}@${USERS_REALM}`)
        assert.include(listed.stdout, `krbtgt/${SERVICES_REALM}@${USERS_REALM}`)
        assert.include(listed.stdout, `${TRUST_SPN}@${SERVICES_REALM}`)
        const second = yield* get
        assert.strictEqual(second.kdcRoundTrips, 0)
        // MIT's kvno takes the service ticket from the cache vedauth wrote.
        const kvno = yield* Effect.promise(() =>
          mitTool("kvno", [`${TRUST_SPN}@${SERVICES_REALM}`], { ...trust.env[route], KRB5CCNAME: `FILE:${cache}` })
        )
        assert.isTrue(kvno.ok, kvno.stderr)
      }))
  }

  it.live("a cached cross-realm TGT is reused: with the service ticket gone, one round trip, to SERVICES.TEST's KDC", () =>
    Effect.gen(function*() {
      const cache = yield* Effect.promise(() => trust.users.kinit(alice, "reuse.ccache"))
      // MIT's kvno puts the cross-realm TGT in the cache; the service ticket vedauth wants is another's.
      yield* Effect.promise(() => trust.services.kadmin("addprinc -randkey HTTP/other.services.test"))
      const kvno = yield* Effect.promise(() =>
        mitTool("kvno", [`HTTP/other.services.test@${SERVICES_REALM}`], {
          ...trust.env.mapped,
          KRB5CCNAME: `FILE:${cache}`
        })
      )
      assert.isTrue(kvno.ok, kvno.stderr)
      sent.length = 0
      const ticket = yield* Kerberos.getTicket({
        keySource: { _tag: "CacheOnly" },
        spn: TRUST_SPN,
        cache: `FILE:${cache}`
      }).pipe(withConf("mapped"), Effect.provide(live))
      assert.strictEqual(ticket.kdcRoundTrips, 1)
      assert.deepStrictEqual(sent, [`${TRUST_SPN}@${SERVICES_REALM}`])
      yield* Effect.promise(() => Fs.rm(cacheFile("reuse.ccache"), { force: true }))
    }))
})

describe("authorize against the simulator holding SERVICES.TEST's key", () => {
  for (const route of ["mapped", "referral"] as const) {
    it.live(`alice@USERS.TEST authorizes through Kerberos ${route === "mapped" ? "by [domain_realm]" : "by the KDC's referral"}`, () =>
      Effect.gen(function*() {
        const serviceKeytab = yield* Kerberos.readKeytab(
          yield* Effect.promise(() => trust.services.keytab(TRUST_SPN, `tpp-${route}.keytab`))
        ).pipe(Effect.provide(live))
        const server = yield* Simulator.serve({
          users: [{
            name: "alice",
            domain: USERS_REALM.split(".")[0]!,
            password: Simulator.defaultCredentials.password
          }],
          kerberos: { realm: SERVICES_REALM, serviceKeytab }
        })
        const grant = yield* VedAuth.authorize().pipe(
          Effect.provide(NodeVedAuth.layer({
            url: server.url,
            clientId: Simulator.defaultClientId,
            scope: "certificate:manage",
            username: `alice@${USERS_REALM}`,
            password: Simulator.defaultCredentials.password,
            mechanism: "kerberos",
            kerberos: { spn: TRUST_SPN },
            tokenStorePath: cacheFile(`tokens-${route}.json`),
            ...(server.caPem === undefined ? {} : { transport: { ca: server.caPem } })
          })),
          withConf(route)
        )
        assert.strictEqual(grant.scope, "certificate:manage")
      }).pipe(Effect.scoped))
  }
})
