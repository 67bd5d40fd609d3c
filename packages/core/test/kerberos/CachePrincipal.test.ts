/** `Kerberos.cachePrincipal`: whom a FILE: credential cache belongs to (what `vedauth login` acts for with no user). */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import * as ccache from "../../../winauth/src/internal/kerberos/ccache.js"
import * as Kerberos from "../../src/Kerberos.js"
import { MemoryFiles } from "../fixtures/memoryFileSystem.js"
import { mintTicket, REALM } from "./support.js"

const cacheBytes = () => {
  const credential = Redacted.value(mintTicket({ now: Date.now(), lifetimeMillis: 3600_000 }).credential)
  return ccache.writeCcache({ principal: credential.client, realm: REALM, credentials: [credential] })
}

describe("Kerberos.cachePrincipal", () => {
  it.effect("the owner of a FILE: cache, named as FILE:path or a path; None when there is no file", () => {
    const memory = new MemoryFiles()
    memory.files.set("/run/user/1000/cc", { text: "", bytes: cacheBytes(), mode: 0o600 })
    return Effect.gen(function*() {
      assert.deepStrictEqual(yield* Kerberos.cachePrincipal("FILE:/run/user/1000/cc"), Option.some(`alice@${REALM}`))
      assert.deepStrictEqual(yield* Kerberos.cachePrincipal("/run/user/1000/cc"), Option.some(`alice@${REALM}`))
      assert.deepStrictEqual(yield* Kerberos.cachePrincipal("/run/user/1000/none"), Option.none())
    }).pipe(Effect.provide(memory.layer()))
  })

  it.effect("another cache type or a file that is no cache: a KerberosError that says so", () => {
    const memory = new MemoryFiles()
    memory.files.set("/run/user/1000/text", { text: "not a cache", mode: 0o600 })
    return Effect.gen(function*() {
      const kcm = yield* Effect.flip(Kerberos.cachePrincipal("KCM:"))
      assert.strictEqual(kcm.reason, "CCACHE_TYPE_UNSUPPORTED")
      const garbage = yield* Effect.flip(Kerberos.cachePrincipal("/run/user/1000/text"))
      assert.strictEqual(garbage._tag, "KerberosError")
      assert.include(garbage.message, "/run/user/1000/text")
    }).pipe(Effect.provide(memory.layer()))
  })

  it.effect("a cache another user owns, or one writable by group or others, is refused (CCACHE_UNTRUSTED), its tickets never read", () => {
    const memory = new MemoryFiles()
    memory.files.set("/var/tmp/krb5cc_planted", { text: "", bytes: cacheBytes(), mode: 0o644, uid: 1001 })
    memory.files.set("/var/tmp/krb5cc_open", { text: "", bytes: cacheBytes(), mode: 0o666 })
    return Effect.gen(function*() {
      const planted = yield* Effect.flip(Kerberos.cachePrincipal("FILE:/var/tmp/krb5cc_planted"))
      assert.strictEqual(planted.reason, "CCACHE_UNTRUSTED")
      assert.include(planted.message, "owned by user id 1001")
      assert.notInclude(planted.message, "alice")
      const open = yield* Effect.flip(Kerberos.cachePrincipal("FILE:/var/tmp/krb5cc_open"))
      assert.strictEqual(open.reason, "CCACHE_UNTRUSTED")
      assert.include(open.message, "writable by group or others (mode 0666)")
    }).pipe(Effect.provide(memory.layer()))
  })
})
