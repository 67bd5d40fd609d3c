/**
 * Interop: RHEL's `kinit` then the library, with tickets in KCM. sssd-kcm runs privately
 * (@vedauth/test-helpers/sssdKcm), MIT's `kinit` (KRB5CCNAME=KCM:) fills it from a throwaway MIT
 * realm, and the library reads the default KCM cache's principal and TGT through
 * `NodeKcmTransport`, authorizes at the simulator (whose acceptor has the realm's service key) with
 * no user and no password, and stores the service ticket back: MIT's `klist` shows it, and the next login needs no KDC round trip.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import * as KcmTransport from "@vedauth/core/KcmTransport"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeKcmTransport, NodeKdcTransport, NodeTokenStoreFiles, NodeVedAuth } from "@vedauth/platform-node"
import { REALM, type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { type Kcm, startKcm } from "@vedauth/test-helpers/sssdKcm"
import { ConfigProvider, Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { promisify } from "node:util"
import * as Simulator from "../src/Simulator.js"
import { runWithInput } from "./sambaAd.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
const run = promisify(execFile)
let realm: Realm
let kcm: Kcm
let env: NodeJS.ProcessEnv
let conf: string

beforeAll(async () => {
  ;[realm, kcm] = await Promise.all([startRealm([alice]), startKcm()])
  conf = Path.join(kcm.dir, "krb5.conf")
  await Fs.writeFile(conf, kcm.withKcm(await Fs.readFile(realm.env["KRB5_CONFIG"]!, "utf8")))
  env = { ...process.env, KRB5_CONFIG: conf, KRB5CCNAME: "KCM:" }
}, 60_000)
afterAll(() => Promise.all([realm?.stop(), kcm?.stop()]))

const kinit = Effect.promise(async () => {
  await run("kdestroy", ["-A"], { env }).catch(() => undefined)
  await runWithInput("kinit", [`${alice.name}@${REALM}`], `${alice.password}\n`, env)
})
const klist = Effect.promise(() => run("klist", [], { env }).then((r) => r.stdout))

// krb5.conf (its kcm_socket) read from the test's file, as KRB5_CONFIG names it.
const krb5Conf = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => Effect.withConfigProvider(effect, ConfigProvider.fromMap(new Map([["KRB5_CONFIG", conf]]))))

const files = Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)

/** The simulator in the MIT realm: its acceptor has the realm's HTTP/ key. */
const tpp = Effect.gen(function*() {
  const serviceKeytab = yield* Kerberos.readKeytab(yield* Effect.promise(() => realm.keytab(SPN, "http.keytab")))
  return yield* Simulator.serve({
    protocol: "http",
    users: [{ name: alice.name, domain: REALM.split(".")[0]!, password: Simulator.defaultCredentials.password }],
    kerberos: { realm: REALM, serviceKeytab }
  })
})

/** NodeKcmTransport counting its requests by opcode (bytes 2 and 3 of a request). */
const counting = () => {
  const opcodes: Array<number> = []
  const node = NodeKcmTransport.make()
  const layer = KcmTransport.layerMemory((socket, request) => {
    opcodes.push((request[2]! << 8) | request[3]!)
    return node.request(socket, request)
  })
  return { opcodes, layer }
}

describe("kinit into sssd-kcm, then vedauth with KCM:", () => {
  it.scopedLive("authorize with no user and no password: the TGT from KCM, the service ticket stored back (klist shows it)", () =>
    Effect.gen(function*() {
      yield* kinit
      const served = yield* tpp
      const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
      const grant = yield* krb5Conf(
        VedAuth.authorize().pipe(
          Effect.provide(NodeVedAuth.layer({
            url: served.url,
            clientId: Simulator.defaultClientId,
            scope: "certificate:manage",
            mechanism: "kerberos",
            kerberos: { cache: "KCM:", spn: SPN },
            tokenStorePath: `${dir}/tokens.json`
          }))
        )
      )
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [1])
      const listed = yield* klist
      assert.include(listed, `Default principal: ${alice.name}@${REALM}`)
      assert.include(listed, `${SPN}@${REALM}`)
    }).pipe(Effect.provide(files)))

  it.live("the KCM requests of a login: 3 to read the cache, one TGS exchange, one STORE; the next login reads the service ticket and asks no KDC", () =>
    Effect.gen(function*() {
      yield* kinit
      const first = counting()
      const kdc = Layer.merge(NodeKdcTransport.layer({ timeout: "5 seconds" }), files)
      const ticket = yield* krb5Conf(Kerberos.getTicket({ keySource: { _tag: "CacheOnly" }, spn: SPN, cache: "KCM:" }))
        .pipe(Effect.provide(Layer.merge(kdc, first.layer)))
      assert.strictEqual(ticket.client, `${alice.name}@${REALM}`)
      assert.strictEqual(ticket.kdcRoundTrips, 1)
      // GET_DEFAULT_CACHE, GET_PRINCIPAL, GET_CRED_LIST (sssd-kcm 2.8 has MIT's extension), STORE.
      assert.deepStrictEqual(first.opcodes, [20, 8, 13001, 6])
      const second = counting()
      const again = yield* krb5Conf(Kerberos.getTicket({ keySource: { _tag: "CacheOnly" }, spn: SPN, cache: "KCM:" }))
        .pipe(Effect.provide(Layer.merge(kdc, second.layer)))
      assert.strictEqual(again.kdcRoundTrips, 0)
      assert.deepStrictEqual(second.opcodes, [20, 8, 13001])
    }))

  it.live("after kdestroy: cachePrincipal finds no cache, and a login with nothing else says so", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => run("kdestroy", ["-A"], { env }))
      const layer = Layer.merge(NodeKcmTransport.layer(), files)
      const owner = yield* krb5Conf(Kerberos.cachePrincipal("KCM:")).pipe(Effect.provide(layer))
      assert.isTrue(owner._tag === "None")
      const error = yield* Effect.flip(
        krb5Conf(Kerberos.getTicket({ keySource: { _tag: "CacheOnly" }, spn: SPN, cache: "KCM:" })).pipe(
          Effect.provide(Layer.mergeAll(layer, NodeKdcTransport.layer()))
        )
      )
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag === "KerberosError") assert.strictEqual(error.reason, "NO_PRINCIPAL")
    }))
})
