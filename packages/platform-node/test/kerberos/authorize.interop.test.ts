/**
 * Interop, whole authorize: `NodeVedAuth` with `mechanism: "kerberos"` gets its tickets from a
 * throwaway MIT KDC and authorizes over HTTPS against an HTTP server whose acceptor is MIT's
 * (python3-gssapi, the service keytab from kadmin). The server computes the RFC 5929
 * tls-server-end-point bindings of its own certificate with node:crypto, independently of ours.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as VedAuth from "@vedauth/core/VedAuth"
import { REALM, type Realm, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { Effect, Redacted } from "effect"
import { execFile } from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Https from "node:https"
import type * as Net from "node:net"
import * as Path from "node:path"
import { promisify } from "node:util"
import * as NodeVedAuth from "../../src/NodeVedAuth.js"
import { mitAccept } from "./gssPeer.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
let realm: Realm
let acceptorEnv: NodeJS.ProcessEnv
let cert: { readonly pem: string; readonly key: string; readonly der: Buffer }

beforeAll(async () => {
  realm = await startRealm([alice])
  acceptorEnv = { ...realm.env, KRB5_KTNAME: `FILE:${await realm.keytab(SPN, "http.keytab")}` }
  const keyPath = Path.join(realm.dir, "tls.key")
  const certPath = Path.join(realm.dir, "tls.pem")
  await promisify(execFile)("openssl", [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost",
    "-keyout",
    keyPath,
    "-out",
    certPath
  ])
  const pem = Fs.readFileSync(certPath, "utf8")
  cert = { pem, key: Fs.readFileSync(keyPath, "utf8"), der: new Crypto.X509Certificate(pem).raw }
}, 30_000)
afterAll(() => realm?.stop())

const grantBody = (scope: string) => {
  const now = Math.floor(Date.now() / 1000)
  return JSON.stringify({
    access_token: "access-" + Crypto.randomBytes(8).toString("hex"),
    refresh_token: "refresh-" + Crypto.randomBytes(8).toString("hex"),
    expires_in: 3600,
    expires: now + 3600,
    refresh_until: now + 86400,
    token_type: "Bearer",
    scope,
    identity: `${REALM}\\alice`
  })
}

/** An HTTPS server that asks for Negotiate and hands each token to MIT's acceptor with `bindings`. */
const startServer = (bindings: Uint8Array) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Https.Server; readonly port: number; readonly requests: Array<string> }>(
      (resume) => {
        const requests: Array<string> = []
        const server = Https.createServer({ cert: cert.pem, key: cert.key }, (req, res) => {
          const chunks: Array<Buffer> = []
          req.on("data", (chunk: Buffer) => chunks.push(chunk))
          req.on("end", () => {
            const header = req.headers["authorization"]
            requests.push(header === undefined ? "anonymous" : "negotiate")
            if (header === undefined || !header.startsWith("Negotiate ")) {
              res.writeHead(401, { "www-authenticate": "Negotiate", "content-length": "0" }).end()
              return
            }
            void mitAccept(new Uint8Array(Buffer.from(header.slice(10), "base64")), acceptorEnv, bindings).then(
              (answer) => {
                if (answer.complete !== true) {
                  res.writeHead(401, { "www-authenticate": "Negotiate", "content-length": "0" }).end()
                  return
                }
                const scope = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { scope: string }).scope
                const body = grantBody(scope)
                res.writeHead(200, {
                  "content-type": "application/json",
                  "content-length": String(Buffer.byteLength(body)),
                  ...(answer.token === undefined || answer.token === null
                    ? {}
                    : { "www-authenticate": `Negotiate ${answer.token}` })
                }).end(body)
              }
            )
          })
        })
        server.listen(0, "127.0.0.1", () =>
          resume(Effect.succeed({ server, port: (server.address() as Net.AddressInfo).port, requests })))
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) =>
        void server.close(() => resume(Effect.void))
      )
  )

const tlsServerEndPoint = () =>
  new Uint8Array(
    Buffer.concat([Buffer.from("tls-server-end-point:"), Crypto.createHash("sha256").update(cert.der).digest()])
  )

const authorize = (port: number) =>
  VedAuth.authorize().pipe(
    Effect.provide(NodeVedAuth.layer({
      url: `https://localhost:${port}`,
      clientId: "vedauth-test",
      scope: "certificate:manage",
      username: `alice@${REALM}`,
      password: Redacted.make(alice.password),
      mechanism: "kerberos",
      kerberos: { kdc: `127.0.0.1:${realm.kdc.port}`, spn: SPN },
      tokenStorePath: Path.join(realm.dir, `tokens-${port}.json`),
      transport: { ca: cert.pem }
    }))
  )

describe("NodeVedAuth with Kerberos against MIT's acceptor behind HTTPS", () => {
  it.live("the right channel bindings: authorized, MIT's AP-REP verified", () =>
    Effect.gen(function*() {
      const { port, requests } = yield* startServer(tlsServerEndPoint())
      const grant = yield* authorize(port)
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(requests, ["negotiate"])
    }).pipe(Effect.scoped))

  it.live("bindings of another certificate: MIT refuses the ticket, a KerberosError (the server's refusal, not the KDC's)", () =>
    Effect.gen(function*() {
      const other = new Uint8Array(Buffer.concat([Buffer.from("tls-server-end-point:"), Buffer.alloc(32, 0xcd)]))
      const { port } = yield* startServer(other)
      const error = yield* Effect.flip(authorize(port))
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag === "KerberosError") assert.strictEqual(error.reason, "SERVER_REFUSED_TICKET")
    }).pipe(Effect.scoped))
})
