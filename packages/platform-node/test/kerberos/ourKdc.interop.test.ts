/**
 * Interop: our minimal KDC (`Kerberos.makeKdc`) served over TCP on loopback, used by MIT's own
 * clients: `kinit` (AS with pre-authentication), `kvno` (TGS), `klist`; then MIT's GSS-API initiator
 * with those tickets against our acceptor, and MIT's acceptor with a keytab we wrote.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { makeAcceptor, makeKdc, type TestKdc } from "@vedauth/test-helpers/kerberosServers"
import { Effect, Layer, Redacted } from "effect"
import { execFile, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import * as NodeKdcTransport from "../../src/NodeKdcTransport.js"
import * as NodeTokenStoreFiles from "../../src/NodeTokenStoreFiles.js"
import { mitAccept, mitInitiate } from "./gssPeer.js"

const REALM = "OURS.TEST"
const HOST = "tpp.ours.test"
const SPN = `HTTP/${HOST}`
const password = "Alice-Ours-5"
let dir: string
let env: NodeJS.ProcessEnv
let server: Net.Server
let port: number
let serviceKeytab: Kerberos.Keytab

/** Serves a KDC over TCP with RFC 4120 framing, one request per connection. */
const serve = (kdc: TestKdc) =>
  Net.createServer((socket) => {
    let buffered = Buffer.alloc(0)
    socket.on("error", () => {})
    socket.on("data", (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length < 4 || buffered.length < 4 + buffered.readUInt32BE(0)) return
      const request = new Uint8Array(buffered.subarray(4, 4 + buffered.readUInt32BE(0)))
      void Effect.runPromise(kdc.handle(request)).then((reply) => {
        const frame = Buffer.alloc(4 + reply.length)
        frame.writeUInt32BE(reply.length, 0)
        frame.set(reply, 4)
        socket.end(frame)
      })
    })
  })

beforeAll(async () => {
  dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-ourkdc-"))
  const principal = (text: string) => Effect.runSync(Kerberos.parsePrincipal(text))
  const aliceKeys = await Effect.runPromise(
    Kerberos.keytabFromPassword(principal(`alice@${REALM}`), Redacted.make(password))
  )
  serviceKeytab = await Effect.runPromise(
    Kerberos.keytabFromPassword(principal(`${SPN}@${REALM}`), Redacted.make("service-secret"), { kvno: 2 })
  )
  server = serve(makeKdc({ realm: REALM, keytabs: [aliceKeys, serviceKeytab] }))
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  port = (server.address() as Net.AddressInfo).port
  await Fs.writeFile(
    Path.join(dir, "krb5.conf"),
    `[libdefaults]\n default_realm = ${REALM}\n dns_lookup_kdc = false\n rdns = false\n dns_canonicalize_hostname = false\n udp_preference_limit = 1\n` +
      `[realms]\n ${REALM} = {\n  kdc = 127.0.0.1:${port}\n }\n[domain_realm]\n .ours.test = ${REALM}\n`
  )
  await Fs.writeFile(Path.join(dir, "http.keytab"), Kerberos.keytabToBytes(serviceKeytab))
  env = {
    ...process.env,
    KRB5_CONFIG: Path.join(dir, "krb5.conf"),
    KRB5CCNAME: `FILE:${Path.join(dir, "alice.ccache")}`,
    KRB5_KTNAME: `FILE:${Path.join(dir, "http.keytab")}`
  }
}, 30_000)
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await Fs.rm(dir, { recursive: true, force: true })
})

const kinit = (secret: string) =>
  new Promise<{ readonly code: number | null; readonly stderr: string }>((resolve) => {
    const child = spawn("kinit", [`alice@${REALM}`], { env, stdio: ["pipe", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("exit", (code) => resolve({ code, stderr }))
    child.stdin.end(`${secret}\n`)
  })

describe("our KDC used by MIT Kerberos", () => {
  it.live("kinit (AS with pre-authentication) and kvno (TGS) get tickets that klist shows; a wrong password is refused", () =>
    Effect.gen(function*() {
      const refused = yield* Effect.promise(() => kinit("not-the-password"))
      assert.notStrictEqual(refused.code, 0)
      assert.match(refused.stderr, /[Pp]assword incorrect|[Pp]reauthentication failed/)
      const accepted = yield* Effect.promise(() => kinit(password))
      assert.strictEqual(accepted.code, 0, accepted.stderr)
      const kvno = yield* Effect.promise(() => promisify(execFile)("kvno", [SPN], { env }))
      assert.include(kvno.stdout, `${SPN}@${REALM}: kvno = 2`)
      const listed = (yield* Effect.promise(() => promisify(execFile)("klist", [], { env }))).stdout
      assert.include(listed, `krbtgt/${REALM}@${REALM}`)
      assert.include(listed, `${SPN}@${REALM}`)
    }))

  it.live("MIT's initiator with those tickets is accepted by our acceptor, and verifies our answer", () =>
    Effect.gen(function*() {
      const acceptor = makeAcceptor({ keytab: serviceKeytab })
      const { first, last } = yield* Effect.promise(() =>
        mitInitiate(
          `HTTP@${HOST}`,
          env,
          (token) => Effect.runPromise(Effect.map(acceptor.accept(token), (a) => a.token))
        )
      )
      assert.strictEqual(first.error, undefined)
      assert.isTrue(last?.complete)
    }))

  it.live("MIT's acceptor, with the keytab we wrote, accepts our token for a ticket from our KDC", () =>
    Effect.gen(function*() {
      const ticket = yield* Kerberos.getTicket({
        principal: `alice@${REALM}`,
        keySource: { _tag: "Password", password: Redacted.make(password) },
        spn: SPN,
        kdc: `127.0.0.1:${port}`
      })
      const initiator = yield* Kerberos.initiate(ticket)
      const answer = yield* Effect.promise(() => mitAccept(initiator.token, env))
      assert.strictEqual(answer.initiator, `alice@${REALM}`)
      yield* initiator.complete(
        answer.token === null || answer.token === undefined
          ? undefined
          : new Uint8Array(Buffer.from(answer.token, "base64"))
      )
    }).pipe(
      Effect.provide(
        Layer.merge(NodeKdcTransport.layer(), Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))
      )
    ))
})
