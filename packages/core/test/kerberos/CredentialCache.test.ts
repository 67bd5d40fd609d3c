/**
 * Credential-cache reuse on the TestClock, without a KDC: valid tickets are used, tickets within a
 * minute of their end are not, and the cache file is read and written through FileSystem.
 */
import { assert, describe, it } from "@effect/vitest"
import { NodeFileSystem } from "@effect/platform-node"
import { Duration, Effect, Layer, Redacted, TestClock } from "effect"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import * as ccache from "../../src/internal/kerberos/ccache.js"
import type { Credential } from "../../src/internal/kerberos/kdcClient.js"
import * as KdcTransport from "../../src/KdcTransport.js"
import * as Kerberos from "../../src/Kerberos.js"
import { mintTicket, REALM, SPN } from "./support.js"

const start = Date.UTC(2026, 0, 15, 9)
/** A TGT stand-in (only its name and lifetime matter here): valid for two hours from `start`. */
const tgtLike = (credential: Credential): Credential => ({ ...credential, server: { nameType: 2, components: ["krbtgt", REALM] }, endtime: start + 2 * 3600_000 })

/** A temp cache holding a TGT (two hours) and a service ticket (one hour). */
const cacheFixture = Effect.acquireRelease(
  Effect.promise(async () => {
    const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-ccache-"))
    const service = Redacted.value(mintTicket({ now: start, lifetimeMillis: 3600_000 }).credential)
    const file = Path.join(dir, "krb5cc")
    await Fs.writeFile(file, ccache.writeCcache({ principal: service.client, realm: REALM, credentials: [tgtLike(service), service] }))
    return { dir, file }
  }),
  ({ dir }) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
)

const fromCache = (file: string) =>
  Kerberos.getTicket({ credentials: { _tag: "CacheOnly" }, spn: SPN, kdc: "127.0.0.1:1", cache: `FILE:${file}` }).pipe(
    Effect.provide(Layer.merge(KdcTransport.layerUnreachable, NodeFileSystem.layer))
  )

describe("FILE: credential cache reuse", () => {
  it.scoped("a valid service ticket comes from the cache with no KDC round trip", () =>
    Effect.gen(function*() {
      const { file } = yield* cacheFixture
      yield* TestClock.setTime(start + 10 * 60_000)
      const ticket = yield* fromCache(file)
      assert.strictEqual(ticket.kdcRoundTrips, 0)
      assert.strictEqual(ticket.client, `alice@${REALM}`)
    }))

  it.scoped("within a minute of its end the service ticket is not used, and the cached TGT goes to the KDC (here unreachable)", () =>
    Effect.gen(function*() {
      const { file } = yield* cacheFixture
      yield* TestClock.setTime(start)
      yield* TestClock.adjust(Duration.minutes(59.5))
      const error = yield* Effect.flip(fromCache(file))
      assert.strictEqual(error._tag, "TransportError")
    }))

  it.scoped("with the TGT near its end too, and no password or keytab, it says to kinit", () =>
    Effect.gen(function*() {
      const { file } = yield* cacheFixture
      yield* TestClock.setTime(start + 2 * 3600_000)
      const error = yield* Effect.flip(fromCache(file))
      assert.strictEqual(error._tag, "KerberosError")
      assert.include(error.message, "no valid ticket-granting ticket")
    }))

  it.scoped("a corrupt cache is a KerberosError naming the file, and is left as it was", () =>
    Effect.gen(function*() {
      const { file } = yield* cacheFixture
      yield* Effect.promise(() => Fs.writeFile(file, Uint8Array.of(5, 4, 0, 0, 0, 0, 0, 1)))
      const error = yield* Effect.flip(fromCache(file))
      assert.strictEqual(error._tag, "KerberosError")
      assert.include(error.message, file)
      assert.deepStrictEqual([...(yield* Effect.promise(() => Fs.readFile(file)))], [5, 4, 0, 0, 0, 0, 0, 1])
    }))
})
