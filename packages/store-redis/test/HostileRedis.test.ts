/**
 * A hostile (or broken) Redis: a listing whose cursor never ends (#21 R3), a record too large to
 * read, a record that does not open beside good ones, an older sealed record put back (rollback),
 * and a lock key without an expiry (#21 R10; the last one runs in the conformance lock cases).
 */
import { assert, describe, it } from "@effect/vitest"
import { TokenStore, TokenStoreConformance } from "@vedauth/core"
import { redisServer } from "@vedauth/test-helpers/redisServer"
import { Effect, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { createServer, type Socket } from "node:net"
import { RedisTokenStore } from "../src/index.js"

const key = TokenStoreConformance.sampleKey
const grant = TokenStoreConformance.sampleGrant
const storeKey = () => Redacted.make(randomBytes(32).toString("base64"))

// RESP replies.
const bulk = (text: string) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`
const array = (items: ReadonlyArray<string>) => `*${items.length}\r\n${items.join("")}`

/**
 * A Redis stand-in that answers what the store asks while connecting, and answers every SCAN with
 * one more key and a cursor that never returns to 0. Counts the SCANs it was sent.
 */
const endlessScan = Effect.acquireRelease(
  Effect.async<{ readonly port: number; readonly scans: () => number; readonly close: () => void }>((resume) => {
    let scans = 0
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      let pending = ""
      socket.on("data", (chunk) => {
        pending += chunk.toString("latin1")
        // Commands arrive as RESP arrays of bulk strings: take every complete one.
        for (;;) {
          const parsed = parseCommand(pending)
          if (parsed === undefined) return
          pending = pending.slice(parsed.length)
          const [name = "", ...args] = parsed.args
          switch (name.toUpperCase()) {
            case "INFO":
              socket.write(bulk("# Server\r\nredis_version:7.0.0\r\nloading:0\r\n"))
              break
            case "SUBSCRIBE":
              socket.write(array([bulk("subscribe"), bulk(args[0] ?? ""), ":1\r\n"]))
              break
            case "SCAN":
              scans++
              socket.write(array([bulk(String(scans)), array([bulk(`vedauth:grant:k${scans}`)])]))
              break
            default:
              socket.write("+OK\r\n")
          }
        }
      })
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resume(Effect.succeed({
        port: typeof address === "object" && address !== null ? address.port : 0,
        scans: () => scans,
        close: () => {
          for (const socket of sockets) socket.destroy()
          server.close()
        }
      }))
    })
  }),
  (fake) => Effect.sync(() => fake.close())
)

const parseCommand = (text: string): { readonly args: ReadonlyArray<string>; readonly length: number } | undefined => {
  const header = /^\*(\d+)\r\n/.exec(text)
  if (header === null) return undefined
  let at = header[0].length
  const args: Array<string> = []
  for (let i = 0; i < Number(header[1]); i++) {
    const size = /^\$(\d+)\r\n/.exec(text.slice(at))
    if (size === null) return undefined
    at += size[0].length
    if (text.length < at + Number(size[1]) + 2) return undefined
    args.push(text.slice(at, at + Number(size[1])))
    at += Number(size[1]) + 2
  }
  return { args, length: at }
}

describe("a hostile Redis", () => {
  it.scopedLive("R3: a listing whose cursor never ends stops at its bound with a TokenStoreError, and no SCAN is sent after", () =>
    Effect.gen(function*() {
      const fake = yield* endlessScan
      const store = yield* RedisTokenStore.make({ url: Redacted.make(`redis://127.0.0.1:${fake.port}`) })
      const error = yield* Effect.flip(store.list)
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.include(error.message, "did not end")
      const sent = fake.scans()
      assert.isAtMost(sent, 1_000)
      yield* Effect.sleep("300 millis")
      assert.strictEqual(fake.scans(), sent, "nothing keeps asking once the listing failed")
    }))

  describe("records", () => {
    const setup = Effect.gen(function*() {
      const server = yield* redisServer()
      const prefix = `h-${randomBytes(4).toString("hex")}:`
      const encryptionKey = storeKey()
      const store = yield* RedisTokenStore.make({ url: server.url, prefix, encryptionKey })
      const recordKey = (k: TokenStore.Key) => `${prefix}grant:${TokenStore.keyString(k)}`
      return { server, prefix, encryptionKey, store, recordKey }
    })

    it.scopedLive("R10: a record over the size cap is refused without being read; the listing reports it and goes on", () =>
      Effect.gen(function*() {
        const { recordKey, server, store } = yield* setup
        const other = { ...key, user: "CORP\\bob" }
        yield* store.set(other, grant(1))
        yield* store.set(key, grant(2))
        // 300 KiB in the grant's field, as a hostile Redis (or a bug elsewhere) could hold.
        server.cli(
          "EVAL",
          "redis.call('HSET', KEYS[1], 'g', string.rep('x', 300 * 1024)); return 1",
          "1",
          recordKey(key)
        )
        const error = yield* Effect.flip(store.withLock(key, store.read(key)))
        assert.include(error.message, "over the 65536 a grant can take")
        const listed = yield* store.list
        assert.deepStrictEqual(listed.map((entry) => entry.key.user), ["corp\\bob"])
      }))

    it.scopedLive("R10: a record that does not open is left out of the listing; the good ones beside it still serve", () =>
      Effect.gen(function*() {
        const { encryptionKey, prefix, server, store } = yield* setup
        const other = { ...key, user: "CORP\\bob" }
        yield* store.set(key, grant(1))
        // A replica with another key writes a record this one cannot open.
        const foreign = yield* RedisTokenStore.make({ url: server.url, prefix, encryptionKey: storeKey() })
        yield* foreign.set(other, grant(2))
        const listed = yield* store.list
        assert.deepStrictEqual(listed.map((entry) => entry.key.user), ["corp\\alice"])
        assert.isTrue(Option.isSome(yield* store.read(key)))
        assert.notStrictEqual(Redacted.value(encryptionKey), "")
      }))

    it.scopedLive("R10: an older sealed record put back (rollback) is refused by a replica that saw the newer one", () =>
      Effect.gen(function*() {
        const { recordKey, server, store } = yield* setup
        const rk = recordKey(key)
        yield* store.set(key, grant(1))
        const old = { v: server.cli("HGET", rk, "v"), g: server.cli("HGET", rk, "g") }
        yield* store.set(key, grant(2))
        assert.strictEqual(
          Option.map(yield* store.read(key), (r) => Redacted.value(r.grant.accessToken)).pipe(Option.getOrUndefined),
          "access-2=="
        )
        // Put the older record back, version and all, behind the replicas' backs.
        server.cli("HSET", rk, "v", old.v, "g", old.g)
        const error = yield* Effect.flip(store.withLock(key, store.read(key)))
        assert.include(error.message, "rolled back")
        // Its version bumped past the newer one does not help: the sealed revision is what counts.
        server.cli("HSET", rk, "v", "999999")
        assert.include((yield* Effect.flip(store.withLock(key, store.read(key)))).message, "rolled back")
      }))
  })
}, { timeout: 60_000 })
