/**
 * Issue #21 R5 and R2, in memory: the credential cache is written back only into a folder that is
 * the user's alone, atomically, with no temporary file left on any failure; krb5.conf is not read
 * when the realm and the KDC are given. (On real files, with a second local user: platform-node's
 * `LocalFileAttacks.test.ts`.)
 */
import { assert, describe, it } from "@effect/vitest"
import { makeKdc } from "@vedauth/test-helpers/kerberosServers"
import { ConfigProvider, Effect, Layer, Redacted, TestClock } from "effect"
import * as ccache from "../../../winauth/src/internal/kerberos/ccache.js"
import * as Kerberos from "../../src/Kerberos.js"
import { MemoryFiles, memoryUid } from "../fixtures/memoryFileSystem.js"
import { REALM, serviceKeytab, SPN } from "./support.js"

const start = Date.UTC(2026, 0, 15, 9)
const password = Redacted.make("Alice-Password-1")

const realm = Effect.gen(function*() {
  yield* TestClock.setTime(start)
  const aliceKeys = yield* Kerberos.keytabFromPassword(yield* Kerberos.parsePrincipal(`alice@${REALM}`), password)
  return makeKdc({ realm: REALM, keytabs: [aliceKeys, serviceKeytab] })
})

const login = (memory: MemoryFiles, cache: string, options: Partial<Kerberos.TicketOptions> = {}) =>
  Effect.flatMap(
    realm,
    (kdc) =>
      Kerberos.getTicket({
        principal: `alice@${REALM}`,
        keySource: { _tag: "Password", password },
        spn: SPN,
        kdc: "kdc.invalid",
        cache: `FILE:${cache}`,
        ...options
      }).pipe(
        Effect.provide(Layer.merge(kdc.layer, memory.layer()))
      )
  )

const strays = (memory: MemoryFiles) => [...memory.files.keys()].filter((name) => name.includes(".vedauth-"))

describe("credential cache write-back", () => {
  it.effect("into a folder of the user's own: written (0600) with the TGT and the service ticket, nothing stray", () =>
    Effect.gen(function*() {
      const memory = new MemoryFiles()
      memory.folders.set("/run/user/1000", { mode: 0o700, uid: memoryUid })
      yield* login(memory, "/run/user/1000/krb5cc")
      const written = memory.files.get("/run/user/1000/krb5cc")
      assert.isDefined(written)
      assert.strictEqual(written!.mode, 0o600)
      assert.strictEqual(ccache.parseCcache(written!.bytes!).credentials.length, 2)
      assert.deepStrictEqual(strays(memory), [])
    }))

  it.effect("into a folder others can write to (a sticky /var/tmp, root's, 1777): not written, the ticket still used", () =>
    Effect.gen(function*() {
      const memory = new MemoryFiles()
      memory.folders.set("/var/tmp", { mode: 0o1777, uid: 0 })
      const ticket = yield* login(memory, "/var/tmp/krb5cc_1000")
      assert.strictEqual(ticket.kdcRoundTrips, 3)
      assert.deepStrictEqual([...memory.files.keys()], [])
    }))

  it.effect("a write-back that fails (the rename) is a KerberosError, and leaves no krb5cc.vedauth-* file", () =>
    Effect.gen(function*() {
      const memory = new MemoryFiles()
      memory.folders.set("/run/user/1000", { mode: 0o700, uid: memoryUid })
      memory.failRename = true
      const error = yield* Effect.flip(login(memory, "/run/user/1000/krb5cc"))
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag === "KerberosError") assert.strictEqual(error.reason, "CCACHE_UNWRITABLE")
      assert.deepStrictEqual([...memory.files.keys()], [])
    }))
})

describe("krb5.conf", () => {
  it.effect("with the realm and the KDC given it is not read at all (a krb5.conf that would be refused is never opened)", () =>
    Effect.gen(function*() {
      const memory = new MemoryFiles()
      memory.folders.set("/run/user/1000", { mode: 0o700, uid: memoryUid })
      // Another user's krb5.conf: refused when read.
      memory.files.set("/etc/planted/krb5.conf", {
        text: "[libdefaults]\n default_realm = EVIL.TEST\n",
        mode: 0o644,
        uid: 1001
      })
      const conf = Layer.setConfigProvider(ConfigProvider.fromMap(new Map([["KRB5_CONFIG", "/etc/planted/krb5.conf"]])))
      const refused = yield* Effect.flip(login(memory, "/run/user/1000/krb5cc").pipe(Effect.provide(conf)))
      assert.strictEqual(refused._tag, "KerberosError")
      if (refused._tag === "KerberosError") assert.strictEqual(refused.reason, "KRB5_CONF_UNREADABLE")
      assert.include(refused.message, "owned by user id 1001")
      const ticket = yield* login(memory, "/run/user/1000/krb5cc", { realm: REALM, principal: "alice" }).pipe(
        Effect.provide(conf)
      )
      assert.strictEqual(ticket.client, `alice@${REALM}`)
    }))
})
