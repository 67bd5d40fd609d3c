/** `Kerberos.cachePrincipal`: whom a FILE: credential cache belongs to (what `vedauth login` acts for with no user). */
import { assert, describe, it } from "@effect/vitest"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Option, Redacted } from "effect"
import * as ccache from "../../src/internal/kerberos/ccache.js"
import * as Kerberos from "../../src/Kerberos.js"
import { mintTicket, REALM } from "./support.js"

describe("Kerberos.cachePrincipal", () => {
  it.scoped("the owner of a FILE: cache, named as FILE:path or a path; None when there is no file", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-ccache-owner-" })
      const credential = Redacted.value(mintTicket({ now: Date.now(), lifetimeMillis: 3600_000 }).credential)
      yield* fs.writeFile(`${dir}/cc`, ccache.writeCcache({ principal: credential.client, realm: REALM, credentials: [credential] }))
      assert.deepStrictEqual(yield* Kerberos.cachePrincipal(`FILE:${dir}/cc`), Option.some(`alice@${REALM}`))
      assert.deepStrictEqual(yield* Kerberos.cachePrincipal(`${dir}/cc`), Option.some(`alice@${REALM}`))
      assert.deepStrictEqual(yield* Kerberos.cachePrincipal(`${dir}/none`), Option.none())
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scoped("another cache type or a file that is no cache: a KerberosError that says so", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-ccache-owner-" })
      const kcm = yield* Effect.flip(Kerberos.cachePrincipal("KCM:"))
      assert.strictEqual(kcm.name, "CCACHE_TYPE_UNSUPPORTED")
      yield* fs.writeFileString(`${dir}/text`, "not a cache")
      const garbage = yield* Effect.flip(Kerberos.cachePrincipal(`${dir}/text`))
      assert.strictEqual(garbage._tag, "KerberosError")
      assert.include(garbage.message, `${dir}/text`)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
