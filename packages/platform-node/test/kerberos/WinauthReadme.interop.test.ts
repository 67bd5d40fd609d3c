/**
 * The engine's README program, run as written (bundled with esbuild, `@vedauth/winauth` pointed at
 * its sources) against MIT Kerberos on both sides: MIT's KDC answers the AS and TGS exchanges the
 * program carries over `node:net`, and MIT's acceptor (python3-gssapi) behind a plain HTTP server
 * checks the token the program sends with `fetch` and answers with its AP-REP, which the program
 * checks in turn (mutual authentication).
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { REALM, type Realm, startRealm } from "@vedauth/test-helpers/mitRealm"
import { build } from "esbuild"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Http from "node:http"
import type * as Net from "node:net"
import * as Path from "node:path"
import { promisify } from "node:util"
import { mitAccept } from "./gssPeer.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
const readme = Path.join(import.meta.dirname, "../../../winauth/README.md")
let realm: Realm
let program: string
let server: Http.Server
let port: number
const seen: Array<{ readonly negotiate: boolean; readonly initiator?: string }> = []

// A TPP stand-in: 401 Negotiate, then MIT's acceptor decides; a grant when it accepts.
const answer = (req: Http.IncomingMessage, res: Http.ServerResponse, env: NodeJS.ProcessEnv) => {
  const header = req.headers["authorization"]
  if (header === undefined || !header.startsWith("Negotiate ")) {
    seen.push({ negotiate: false })
    return void res.writeHead(401, { "www-authenticate": "Negotiate", "content-length": "0" }).end()
  }
  void mitAccept(new Uint8Array(Buffer.from(header.slice(10), "base64")), env).then((accepted) => {
    seen.push({ negotiate: true, ...(accepted.initiator === undefined ? {} : { initiator: accepted.initiator }) })
    if (accepted.complete !== true) {
      return void res.writeHead(401, { "www-authenticate": "Negotiate", "content-length": "0" }).end()
    }
    const body = JSON.stringify({
      access_token: "opaque==",
      refresh_token: "opaque==",
      expires_in: 3600,
      token_type: "Bearer",
      scope: "certificate:manage"
    })
    res.writeHead(200, { "content-type": "application/json", "www-authenticate": `Negotiate ${accepted.token ?? ""}` })
      .end(body)
  })
}

beforeAll(async () => {
  realm = await startRealm([alice])
  await realm.kadmin("addprinc -randkey HTTP/localhost")
  const env = { ...realm.env, KRB5_KTNAME: `FILE:${await realm.keytab("HTTP/localhost", "http.keytab")}` }
  server = Http.createServer((req, res) => {
    req.resume()
    req.on("end", () => answer(req, res, env))
  })
  port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as Net.AddressInfo).port))
  )
  // The first ```js block of the README, as a reader would copy it.
  const code = /```js\n([\s\S]*?)```/.exec(Fs.readFileSync(readme, "utf8"))![1]!
  const source = Path.join(realm.dir, "example.mjs")
  Fs.writeFileSync(source, code)
  program = Path.join(realm.dir, "example.bundle.mjs")
  await build({
    entryPoints: [source],
    outfile: program,
    bundle: true,
    platform: "node",
    format: "esm",
    alias: { "@vedauth/winauth": Path.join(import.meta.dirname, "../../../winauth/src/index.ts") },
    logLevel: "warning"
  })
}, 60_000)
afterAll(async () => {
  server?.close()
  await realm?.stop()
})

const runProgram = (password: string) =>
  promisify(execFile)(process.execPath, [program], {
    env: {
      ...process.env,
      KDC_HOST: realm.kdc.host,
      KDC_PORT: String(realm.kdc.port),
      TPP: `http://localhost:${port}`,
      USER: alice.name,
      PASSWORD: password,
      REALM
    },
    timeout: 30_000
  })

describe("@vedauth/winauth's README program against MIT Kerberos", () => {
  it(
    "logs in with a password: AS with pre-authentication and TGS at MIT's KDC, MIT's acceptor takes the token, the AP-REP checks",
    async () => {
      seen.length = 0
      const { stdout } = await runProgram(alice.password)
      assert.strictEqual(stdout.trim(), "200, scope certificate:manage, 3 KDC round trips")
      assert.deepStrictEqual(seen, [{ negotiate: true, initiator: `alice@${REALM}` }])
      const log = await realm.kdcLog()
      assert.match(log, /AS_REQ .* alice@VEDAUTH\.TEST for krbtgt\/VEDAUTH\.TEST@VEDAUTH\.TEST/)
      assert.match(log, /TGS_REQ .* alice@VEDAUTH\.TEST for HTTP\/localhost@VEDAUTH\.TEST/)
    },
    60_000
  )

  it(
    "a wrong password: the program ends with the engine's KerberosFailure, and nothing reaches the server",
    async () => {
      seen.length = 0
      const failed = await runProgram("Not-Her-Password-Zq9").then(
        () => undefined,
        (error: { readonly code: number; readonly stderr: string }) => error
      )
      assert.isDefined(failed)
      assert.notStrictEqual(failed!.code, 0)
      assert.match(failed!.stderr, /KerberosFailure: KDC_ERR_PREAUTH_FAILED/)
      assert.notInclude(failed!.stderr, "Not-Her-Password-Zq9")
      assert.deepStrictEqual(seen, [])
    },
    60_000
  )
})
