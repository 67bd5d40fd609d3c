/**
 * Interop: credential sources written and read by MIT tools. Keys from `ktutil` (our string-to-key
 * for all four enctypes must give the same bytes), credential caches from `kinit` read by us, and
 * ours read by `klist`, with tickets reused by a second run.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { REALM, type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { Effect, Either, Layer, Redacted } from "effect"
import { execFile, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { promisify } from "node:util"
import * as NodeKdcTransport from "../../src/NodeKdcTransport.js"
import * as NodeTokenStoreFiles from "../../src/NodeTokenStoreFiles.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
const enctypes = [
  "aes256-cts-hmac-sha1-96",
  "aes128-cts-hmac-sha1-96",
  "aes256-cts-hmac-sha384-192",
  "aes128-cts-hmac-sha256-128"
]
let realm: Realm

beforeAll(async () => {
  realm = await startRealm([alice])
}, 30_000)
afterAll(() => realm?.stop())

const live = Layer.merge(
  NodeKdcTransport.layer({ timeout: "5 seconds" }),
  Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)
)
const kdc = () => `127.0.0.1:${realm.kdc.port}`

const ktutil = (file: string, principal: string, password: string) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn("ktutil", [], { env: realm.env, stdio: ["pipe", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(stderr))))
    const script = enctypes.map((e) => `addent -password -p ${principal} -k 1 -e ${e}\n${password}\n`).join("")
    child.stdin.end(`${script}wkt ${file}\nquit\n`)
  })

const klist = async (cache: string) =>
  (await promisify(execFile)("klist", ["-c", `FILE:${cache}`], { env: realm.env })).stdout

describe("MIT keytabs", () => {
  it.live("ktutil's keys for all four enctypes equal ours from the same password and salt, and log in", () =>
    Effect.gen(function*() {
      const file = Path.join(realm.dir, "ktutil.keytab")
      yield* Effect.promise(() => ktutil(file, `alice@${REALM}`, alice.password))
      const theirs = yield* Kerberos.readKeytab(file)
      const principal = Either.getOrThrow(Kerberos.parsePrincipal(`alice@${REALM}`))
      const ours = yield* Kerberos.keytabFromPassword(principal, Redacted.make(alice.password))
      const byType = (k: Kerberos.Keytab) =>
        Object.fromEntries(
          Redacted.value(k.keys).map((e) => [e.key.keytype, Buffer.from(e.key.keyvalue).toString("hex")])
        )
      assert.deepStrictEqual(Object.keys(byType(theirs)).sort(), ["17", "18", "19", "20"])
      assert.deepStrictEqual(byType(ours), byType(theirs))
      // And MIT reads the keytab we write from them.
      const written = Path.join(realm.dir, "ours.keytab")
      yield* Effect.promise(() => Fs.writeFile(written, Kerberos.keytabToBytes(ours)))
      const listed = (yield* Effect.promise(() =>
        promisify(execFile)("klist", ["-k", "-e", written], { env: realm.env })
      )).stdout
      for (const e of enctypes) assert.include(listed, `alice@${REALM} (${e})`)
      // No principal given: the keytab's only one is used.
      const ticket = yield* Kerberos.getTicket({ keySource: { _tag: "Keytab", keytab: theirs }, spn: SPN, kdc: kdc() })
      assert.strictEqual(ticket.client, `alice@${REALM}`)
    }).pipe(Effect.provide(live)))
})

describe("MIT FILE: credential caches", () => {
  it.live("kinit's cache: its TGT is used (one KDC round trip), the service ticket is added, klist lists both, a second run needs no KDC", () =>
    Effect.gen(function*() {
      const cache = yield* Effect.promise(() => realm.kinit(alice, "kinit.ccache"))
      const first = yield* Kerberos.getTicket({
        keySource: { _tag: "CacheOnly" },
        spn: SPN,
        kdc: kdc(),
        cache: `FILE:${cache}`
      })
      assert.strictEqual(first.client, `alice@${REALM}`)
      assert.strictEqual(first.kdcRoundTrips, 1)
      const listed = yield* Effect.promise(() => klist(cache))
      assert.include(listed, `Default principal: alice@${REALM}`)
      assert.include(listed, `krbtgt/${REALM}@${REALM}`)
      assert.include(listed, `${SPN}@${REALM}`)
      const second = yield* Kerberos.getTicket({
        keySource: { _tag: "CacheOnly" },
        spn: SPN,
        kdc: "127.0.0.1:1",
        cache: `FILE:${cache}`
      })
      assert.strictEqual(second.kdcRoundTrips, 0)
      const mode = (yield* Effect.promise(() => Fs.stat(cache))).mode & 0o777
      assert.strictEqual(mode, 0o600)
    }).pipe(Effect.provide(live)))

  it.live("a password login writes a new cache that klist reads and the next run reuses", () =>
    Effect.gen(function*() {
      const cache = Path.join(realm.dir, "fresh.ccache")
      const options = {
        principal: `alice@${REALM}`,
        keySource: { _tag: "Password", password: Redacted.make(alice.password) },
        spn: SPN,
        kdc: kdc(),
        cache
      } as const
      const first = yield* Kerberos.getTicket(options)
      assert.strictEqual(first.kdcRoundTrips, 3)
      assert.include(yield* Effect.promise(() => klist(cache)), `${SPN}@${REALM}`)
      const second = yield* Kerberos.getTicket(options)
      assert.strictEqual(second.kdcRoundTrips, 0)
      assert.strictEqual(second.expiresAt.getTime(), first.expiresAt.getTime())
    }).pipe(Effect.provide(live)))

  it.live("a cache with no TGT and no other credentials is a KerberosError that says to kinit", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Kerberos.getTicket({
          principal: `alice@${REALM}`,
          keySource: { _tag: "CacheOnly" },
          spn: SPN,
          kdc: kdc(),
          cache: Path.join(realm.dir, "none.ccache")
        })
      )
      assert.strictEqual(error._tag, "KerberosError")
      assert.include(error.message, "kinit")
    }).pipe(Effect.provide(live)))
})
