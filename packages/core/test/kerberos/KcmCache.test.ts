/**
 * `KCM:` caches through an in-memory `KcmTransport` (a stand-in daemon built on the engine's ccache
 * encoding), on the TestClock: a valid service ticket comes from KCM with no KDC trip and nothing
 * stored; the requests are the ones MIT's client makes; a malformed reply is `MALFORMED`; a daemon
 * that cannot be reached is an error with only the cache, and no cache with a password.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, TestClock } from "effect"
import { counted32, u32 } from "../../../winauth/src/internal/kerberos/binary.js"
import { writeCredential, writePrincipal } from "../../../winauth/src/internal/kerberos/ccache.js"
import { concat } from "../../../winauth/src/internal/ntlm/bytes.js"
import * as KcmTransport from "../../src/KcmTransport.js"
import * as KdcTransport from "../../src/KdcTransport.js"
import * as Kerberos from "../../src/Kerberos.js"
import { TokenStoreFiles } from "../../src/TokenStoreFiles.js"
import { TransportError } from "../../src/VedAuthError.js"
import { MemoryFiles, memoryUid } from "../fixtures/memoryFileSystem.js"
import { mintTicket, REALM, SPN } from "./support.js"

const start = Date.UTC(2026, 0, 15, 9)
const ok = (...data: ReadonlyArray<Uint8Array>) => concat(u32(0), u32(0), ...data)

/**
 * A daemon holding one cache, "0", the default, with alice's service ticket; the opcodes it was
 * asked. Without `credList` it answers GET_CRED_LIST as an old daemon does: an error code.
 */
const daemon = (credList = true) => {
  const service = Redacted.value(mintTicket({ now: start, lifetimeMillis: 3600_000 }).credential)
  const asked: Array<number> = []
  const layer = KcmTransport.layerMemory((_, request) => {
    const opcode = (request[2]! << 8) | request[3]!
    asked.push(opcode)
    const reply = opcode === 20
      ? ok(new TextEncoder().encode("0\u0000"))
      : opcode === 8
      ? ok(writePrincipal(service.client, REALM))
      : opcode === 9
      ? ok(new Uint8Array(16).fill(1))
      : opcode === 10
      ? ok(writeCredential(service))
      : opcode === 13001
      ? credList ? ok(u32(1), counted32(writeCredential(service))) : concat(u32(0), u32(0x96c73a0c))
      : ok()
    return Effect.succeed(reply)
  })
  return { asked, layer }
}

const ticket = (
  keySource: Kerberos.KeySource,
  kcm: Layer.Layer<KcmTransport.KcmTransport>,
  kdc = KdcTransport.layerUnreachable,
  principal?: string
) =>
  Kerberos.getTicket({
    ...(principal === undefined ? {} : { principal }),
    keySource,
    spn: SPN,
    realm: REALM,
    kdc: "127.0.0.1:1",
    cache: "KCM:"
  }).pipe(Effect.provide(Layer.merge(kcm, kdc)))

describe("KCM: credential caches", () => {
  it.effect("a valid service ticket in the default KCM cache: no KDC round trip, nothing stored; 3 requests, 5 with a daemon without GET_CRED_LIST", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(start + 10 * 60_000)
      const { asked, layer } = daemon()
      const got = yield* ticket({ _tag: "CacheOnly" }, layer)
      assert.strictEqual(got.kdcRoundTrips, 0)
      assert.strictEqual(got.client, `alice@${REALM}`)
      // GET_DEFAULT_CACHE, GET_PRINCIPAL, GET_CRED_LIST.
      assert.deepStrictEqual(asked, [20, 8, 13001])
      const old = daemon(false)
      assert.strictEqual((yield* ticket({ _tag: "CacheOnly" }, old.layer)).kdcRoundTrips, 0)
      // Then GET_CRED_UUID_LIST and GET_CRED_BY_UUID, as MIT's client falls back.
      assert.deepStrictEqual(old.asked, [20, 8, 13001, 9, 10])
      const owner = yield* Kerberos.cachePrincipal("KCM:").pipe(
        Effect.provide(Layer.merge(daemon().layer, new MemoryFiles().layer()))
      )
      assert.deepStrictEqual(owner, Option.some(`alice@${REALM}`))
    }))

  it.effect("a reply that does not decode is MALFORMED, never a defect", () =>
    Effect.gen(function*() {
      const garbage = KcmTransport.layerMemory(() => Effect.succeed(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0xff)))
      const error = yield* Effect.flip(ticket({ _tag: "CacheOnly" }, garbage))
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag === "KerberosError") assert.strictEqual(error.reason, "MALFORMED")
    }))

  it.effect("no daemon: an error with only the cache; with a password the KDC is asked instead (the cache passed over)", () =>
    Effect.gen(function*() {
      const cacheOnly = yield* Effect.flip(ticket({ _tag: "CacheOnly" }, KcmTransport.layerUnreachable))
      assert.strictEqual(cacheOnly._tag, "TransportError")
      assert.include(cacheOnly.message, "KCM daemon")
      const asked: Array<string> = []
      const kdc = KdcTransport.layerMemory((address) => {
        asked.push(`${address.host}:${address.port}`)
        return Effect.fail(new TransportError({ detail: "no KDC here" }))
      })
      yield* Effect.flip(
        ticket({ _tag: "Password", password: Redacted.make("pw") }, KcmTransport.layerUnreachable, kdc, "alice")
      )
      assert.deepStrictEqual(asked, ["127.0.0.1:1"])
      const principal = yield* Effect.flip(
        Kerberos.cachePrincipal("KCM:").pipe(
          Effect.provide(Layer.merge(KcmTransport.layerUnreachable, new MemoryFiles().layer()))
        )
      )
      assert.strictEqual(principal.reason, "CCACHE_UNREADABLE")
    }))

  it.effect("a socket another user owns (squatted), or something that is no socket, is CCACHE_UNTRUSTED before any request; root's or ours is asked", () =>
    Effect.gen(function*() {
      const at = (type: "Socket" | "File", uid: number) => {
        const memory = new MemoryFiles().service()
        return Layer.succeed(TokenStoreFiles, {
          ...memory,
          lstat: () => Effect.succeedSome({ type, mode: 0o777, uid: Option.some(uid), size: 0 })
        })
      }
      for (const [type, uid] of [["Socket", 1001], ["File", memoryUid]] as const) {
        const { asked, layer } = daemon()
        const error = yield* Effect.flip(
          Kerberos.cachePrincipal("KCM:").pipe(Effect.provide(Layer.merge(layer, at(type, uid))))
        )
        assert.strictEqual(error.reason, "CCACHE_UNTRUSTED")
        assert.deepStrictEqual(asked, [])
      }
      for (const uid of [0, memoryUid]) {
        const owner = yield* Kerberos.cachePrincipal("KCM:").pipe(
          Effect.provide(Layer.merge(daemon().layer, at("Socket", uid)))
        )
        assert.deepStrictEqual(owner, Option.some(`alice@${REALM}`))
      }
    }))
})
