/**
 * Interop: curl --negotiate (the system GSSAPI, MIT) against our acceptor behind a bare node:http
 * server, with a ticket from kinit, on loopback.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { makeAcceptor } from "@vedauth/test-helpers/kerberosServers"
import { REALM, type Realm, SERVICE_HOST, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { Effect, Layer } from "effect"
import { execFile } from "node:child_process"
import * as Http from "node:http"
import type * as Net from "node:net"
import { promisify } from "node:util"
import * as NodeTokenStoreFiles from "../../src/NodeTokenStoreFiles.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
let realm: Realm
let server: Http.Server
let port: number
const seen: Array<string> = []

beforeAll(async () => {
  realm = await startRealm([alice])
  const keytab = await Effect.runPromise(
    Kerberos.readKeytab(await realm.keytab(SPN, "http.keytab")).pipe(
      Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer))
    )
  )
  const acceptor = makeAcceptor({ keytab })
  server = Http.createServer((request, response) => {
    const header = request.headers.authorization ?? ""
    seen.push(header.split(" ")[0] ?? "")
    if (!header.startsWith("Negotiate ")) {
      response.writeHead(401, { "www-authenticate": "Negotiate" }).end()
      return
    }
    const token = new Uint8Array(Buffer.from(header.slice("Negotiate ".length), "base64"))
    Effect.runPromise(Effect.either(acceptor.accept(token))).then((result) => {
      if (result._tag === "Left") response.writeHead(401, { "www-authenticate": "Negotiate" }).end(result.left.message)
      else {response.writeHead(200, {
          "www-authenticate": `Negotiate ${Buffer.from(result.right.token).toString("base64")}`
        }).end(result.right.client)}
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  port = (server.address() as Net.AddressInfo).port
}, 30_000)
afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve))
  await realm?.stop()
})

const curl = (env: NodeJS.ProcessEnv, path = "/vedauth/authorize/integrated") =>
  promisify(execFile)("curl", [
    "--silent",
    "--show-error",
    "--negotiate",
    "-u",
    ":",
    "--resolve",
    `${SERVICE_HOST}:${port}:127.0.0.1`,
    "--write-out",
    "\n%{http_code}",
    `http://${SERVICE_HOST}:${port}${path}`
  ], { env })

describe("curl --negotiate against our acceptor", () => {
  // curl 7.88 ignores the server's final token (it checked an altered AP-REP no more than a good one),
  // so mutual authentication is proven by the python3-gssapi initiator in gss.interop.test.ts.
  it.live("a kinit ticket authenticates alice over HTTP Negotiate", () =>
    Effect.gen(function*() {
      const cache = yield* Effect.promise(() => realm.kinit(alice, "curl.ccache"))
      const { stdout } = yield* Effect.promise(() => curl({ ...realm.env, KRB5CCNAME: `FILE:${cache}` }))
      assert.strictEqual(stdout, `alice@${REALM}\n200`)
      assert.include(seen, "Negotiate")
    }))

  it.live("without a ticket curl cannot authenticate and the answer stays 401", () =>
    Effect.gen(function*() {
      const { stdout } = yield* Effect.promise(() =>
        curl({ ...realm.env, KRB5CCNAME: `FILE:${realm.dir}/empty.ccache` })
      )
      assert.isTrue(stdout.endsWith("401"))
    }))
})
