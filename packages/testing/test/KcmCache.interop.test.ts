/**
 * Interop: RHEL's way of keeping `kinit`'s tickets, a KCM cache served by sssd-kcm
 * (@vedauth/test-helpers/sssdKcm, run privately on a socket of its own), filled by MIT's `kinit`
 * from Samba AD's KDC (sambaAd.ts): the caches as MIT's tools see them, and the library reading
 * one with no user and no password (its service ticket from Samba's KDC stored back in KCM). The
 * requests per login are counted in KcmTicket.interop.test.ts.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { type Kcm, startKcm } from "@vedauth/test-helpers/sssdKcm"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { promisify } from "node:util"
import * as Simulator from "../src/Simulator.js"
import {
  DOMAIN,
  PASSWORD,
  REALM,
  runWithInput,
  type SambaAd,
  SERVICE,
  startSambaAd,
  USERS,
  vedAuthAt
} from "./sambaAd.js"

const run = promisify(execFile)
let dc: SambaAd
let kcm: Kcm
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  ;[dc, kcm] = await Promise.all([startSambaAd(), startKcm()])
  const conf = Path.join(kcm.dir, "krb5.conf")
  await Fs.writeFile(conf, kcm.withKcm(Simulator.krb5Conf(dc.kdcAddress, { realm: REALM })))
  env = { ...process.env, KRB5_CONFIG: conf, KRB5CCNAME: "KCM:" }
}, 240_000)
afterAll(() => Promise.all([dc?.stop(), kcm?.stop()]))

const mit = (command: string, args: ReadonlyArray<string>) => Effect.tryPromise(() => run(command, args, { env }))

describe("kinit into sssd-kcm's KCM cache, tickets from Samba AD", () => {
  it.live("kinit with KRB5CCNAME=KCM: stores the TGT in KCM; kvno adds the service ticket there; klist -l lists the collection", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => runWithInput("kinit", [`${USERS.alice}@${REALM}`], `${PASSWORD}\n`, env))
      yield* mit("kvno", [`${SERVICE.spn}@${REALM}`])
      const { stdout } = yield* mit("klist", [])
      assert.match(stdout, /^Ticket cache: KCM:0/m)
      assert.include(stdout, `Default principal: ${USERS.alice}@${REALM}`)
      assert.include(stdout, `krbtgt/${REALM}@${REALM}`)
      assert.include(stdout, `${SERVICE.spn}@${REALM}`)
      const collection = yield* mit("klist", ["-l"])
      assert.match(collection.stdout, new RegExp(`^${USERS.alice}@${REALM.replace(".", "\\.")}\\s+KCM:0$`, "m"))
      // The caches live in the private secrets database, not the system's.
      const secrets = yield* Effect.promise(() => Fs.stat(Path.join(kcm.dir, "secrets", "secrets.ldb")))
      assert.isAbove(secrets.size, 0)
    }))

  it.scopedLive("then the library with KCM: and no user or password: Samba's service ticket stored back in KCM, the login authorized", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => runWithInput("kinit", [`${USERS.alice}@${REALM}`], `${PASSWORD}\n`, env))
      const served = yield* Simulator.serve({
        protocol: "http",
        users: [{ name: USERS.alice, domain: DOMAIN, password: Redacted.make(PASSWORD) }],
        kerberos: { realm: REALM, serviceKeytab: yield* Kerberos.readKeytab(dc.serviceKeytab) }
      })
      const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
      const grant = yield* VedAuth.authorize().pipe(
        Effect.provide(vedAuthAt(served.url, `${dir}/tokens.json`, { kerberos: { cache: "KCM:" } })),
        Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["KRB5_CONFIG", env["KRB5_CONFIG"]!]])))
      )
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual((yield* served.simulator.stats).roundTripsPerHandshake, [1])
      const { stdout } = yield* mit("klist", [])
      assert.include(stdout, `${SERVICE.spn}@${REALM}`)
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))))

  it.live("kdestroy empties it: klist then finds no cache", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => runWithInput("kinit", [`${USERS.alice}@${REALM}`], `${PASSWORD}\n`, env))
      yield* mit("kdestroy", ["-A"])
      const listed = yield* Effect.either(mit("klist", []))
      assert.strictEqual(listed._tag, "Left")
    }))
})
