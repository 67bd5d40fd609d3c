/**
 * Credential-cache reuse on the TestClock, without a KDC: valid tickets are used, tickets within a
 * minute of their end are not, and the cache file is read and written through TokenStoreFiles (here in memory).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted, TestClock } from "effect"
import * as ccache from "../../../winauth/src/internal/kerberos/ccache.js"
import type { Credential } from "../../../winauth/src/internal/kerberos/kdcClient.js"
import * as KdcTransport from "../../src/KdcTransport.js"
import * as Kerberos from "../../src/Kerberos.js"
import { MemoryFiles, memoryUid } from "../fixtures/memoryFileSystem.js"
import { mintTicket, REALM, SPN } from "./support.js"

const start = Date.UTC(2026, 0, 15, 9)
/** A TGT stand-in (only its name and lifetime matter here): valid for two hours from `start`. */
const tgtLike = (credential: Credential): Credential => ({
  ...credential,
  server: { nameType: 2, components: ["krbtgt", REALM] },
  endtime: start + 2 * 3600_000
})

const folder = "/run/user/1000"
const file = `${folder}/krb5cc`

/** A cache holding a TGT (two hours) and a service ticket (one hour), in a folder of the user's own. */
const cacheFixture = Effect.sync(() => {
  const memory = new MemoryFiles()
  const service = Redacted.value(mintTicket({ now: start, lifetimeMillis: 3600_000 }).credential)
  memory.folders.set(folder, { mode: 0o700, uid: memoryUid })
  memory.files.set(file, {
    text: "",
    bytes: ccache.writeCcache({ principal: service.client, realm: REALM, credentials: [tgtLike(service), service] }),
    mode: 0o600
  })
  return { memory, file }
})

const fromCache = (memory: MemoryFiles, file: string) =>
  Kerberos.getTicket({ keySource: { _tag: "CacheOnly" }, spn: SPN, kdc: "127.0.0.1:1", cache: `FILE:${file}` }).pipe(
    Effect.provide(Layer.merge(KdcTransport.layerUnreachable, memory.layer()))
  )

describe("FILE: credential cache reuse", () => {
  it.effect("a valid service ticket comes from the cache with no KDC round trip", () =>
    Effect.gen(function*() {
      const { file, memory } = yield* cacheFixture
      yield* TestClock.setTime(start + 10 * 60_000)
      const ticket = yield* fromCache(memory, file)
      assert.strictEqual(ticket.kdcRoundTrips, 0)
      assert.strictEqual(ticket.client, `alice@${REALM}`)
    }))

  it.effect("within a minute of its end the service ticket is not used, and the cached TGT goes to the KDC (here unreachable)", () =>
    Effect.gen(function*() {
      const { file, memory } = yield* cacheFixture
      yield* TestClock.setTime(start)
      yield* TestClock.adjust(Duration.minutes(59.5))
      const error = yield* Effect.flip(fromCache(memory, file))
      assert.strictEqual(error._tag, "TransportError")
    }))

  it.effect("with the TGT near its end too, and no password or keytab, it says to kinit", () =>
    Effect.gen(function*() {
      const { file, memory } = yield* cacheFixture
      yield* TestClock.setTime(start + 2 * 3600_000)
      const error = yield* Effect.flip(fromCache(memory, file))
      assert.strictEqual(error._tag, "KerberosError")
      assert.include(error.message, "no valid ticket-granting ticket")
    }))

  it.effect("a corrupt cache is a KerberosError naming the file, and is left as it was", () =>
    Effect.gen(function*() {
      const { file, memory } = yield* cacheFixture
      memory.files.set(file, { text: "", bytes: Uint8Array.of(5, 4, 0, 0, 0, 0, 0, 1), mode: 0o600 })
      const error = yield* Effect.flip(fromCache(memory, file))
      assert.strictEqual(error._tag, "KerberosError")
      assert.include(error.message, file)
      assert.deepStrictEqual([...memory.files.get(file)!.bytes!], [5, 4, 0, 0, 0, 0, 0, 1])
    }))
})
