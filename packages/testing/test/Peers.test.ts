/**
 * Independent clients against the simulator on real sockets: curl (C, libcurl's NTLM) and Python's
 * requests-ntlm (MIC and channel bindings over HTTPS). A client and server written by the same hands
 * can share a bug; these cannot.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Https from "node:https"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Simulator from "../src/Simulator.js"

interface Ran {
  readonly code: number
  readonly stdout: string
}

// Asynchronous on purpose: the server runs in this process and must keep answering.
const run = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = process.env) =>
  Effect.async<Ran>((resume) => {
    execFile(
      command,
      [...args],
      { encoding: "utf8", env, timeout: 20_000 },
      (error, stdout) =>
        resume(Effect.succeed({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout }))
    )
  })

const tempDir = Effect.acquireRelease(
  Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-sim-"))),
  (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
)

const authorizeBody = JSON.stringify({ client_id: "vedauth-demo", scope: "certificate:manage" })

// Test-only peers get the password in argv; the product never does this.
const curl = (url: string, user: string, extra: ReadonlyArray<string> = []) =>
  run("curl", [
    "-s",
    "--ntlm",
    "-u",
    user,
    "-H",
    "Content-Type: application/json",
    "-d",
    authorizeBody,
    "-w",
    "\n%{http_code}",
    ...extra,
    `${url}/vedauth/authorize/integrated`
  ])

const statusOf = (ran: Ran) => Number(ran.stdout.trim().split("\n").at(-1))
const bodyOf = (ran: Ran) => ran.stdout.trim().split("\n").slice(0, -1).join("\n")

const opensslConf = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

const pythonScript = `
import json, sys, requests
from requests_ntlm import HttpNtlmAuth
url, user, password, ca, cbt = sys.argv[1:6]
s = requests.Session()
r = s.post(url + "/vedauth/authorize/integrated", json={"client_id": "vedauth-demo", "scope": "certificate:manage"},
           auth=HttpNtlmAuth(user, password, send_cbt=(cbt == "1")), verify=ca)
out = {"authorize": r.status_code}
if r.status_code == 200:
    grant = r.json()
    refresh = lambda: requests.post(url + "/vedauth/authorize/token", json={"client_id": "vedauth-demo", "refresh_token": grant["refresh_token"]}, verify=ca)
    first, second = refresh(), refresh()
    out.update(refresh1=first.status_code, refresh2=second.status_code, refresh2_reason=second.reason, refresh2_error=second.json().get("error"))
print(json.dumps(out))
`

describe("independent peers on real sockets", () => {
  it.live("curl --ntlm gets a grant over HTTP; a wrong password is refused; a refresh token works once", () =>
    Effect.gen(function*() {
      const served = yield* Simulator.serve({ protocol: "http" })
      const ok = yield* curl(served.url, "CORP\\alice:Passw0rd!")
      assert.strictEqual(statusOf(ok), 200, ok.stdout)
      const grant = JSON.parse(bodyOf(ok))
      assert.match(grant.access_token, /==$/)
      const wrong = yield* curl(served.url, "CORP\\alice:not-the-password")
      assert.strictEqual(statusOf(wrong), 401)
      const refresh = () =>
        run("curl", [
          "-s",
          "-w",
          "\n%{http_code}",
          "-H",
          "Content-Type: application/json",
          "-d",
          JSON.stringify({ client_id: "vedauth-demo", refresh_token: grant.refresh_token }),
          `${served.url}/vedauth/authorize/token`
        ])
      assert.strictEqual(statusOf(yield* refresh()), 200)
      const second = yield* refresh()
      assert.strictEqual(statusOf(second), 400)
      assert.strictEqual(JSON.parse(bodyOf(second)).error, "invalid_grant")
      const stats = yield* served.simulator.stats
      assert.deepStrictEqual([stats.handshakesCompleted, stats.handshakesRejected], [1, 1])
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [2])
    }).pipe(Effect.scoped))

  it.live("curl over HTTPS (no channel bindings) is accepted only when the server does not require them", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const ca = Path.join(dir, "ca.pem")
      const lax = yield* Simulator.serve({ protocol: "https", channelBindings: "when-present", caPemPath: ca })
      assert.strictEqual(statusOf(yield* curl(lax.url, "CORP\\alice:Passw0rd!", ["--cacert", ca])), 200)
      const strict = yield* Simulator.serve({ protocol: "https", caPemPath: ca })
      assert.strictEqual(statusOf(yield* curl(strict.url, "CORP\\alice:Passw0rd!", ["--cacert", ca])), 401)
      assert.deepStrictEqual((yield* strict.simulator.stats).rejections, { "missing-channel-bindings": 1 })
    }).pipe(Effect.scoped))

  it.live("python requests-ntlm authenticates over HTTPS with MIC and channel bindings required; refresh twice fails", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const ca = Path.join(dir, "ca.pem")
      const conf = Path.join(dir, "openssl.cnf")
      const script = Path.join(dir, "peer.py")
      yield* Effect.promise(() => Promise.all([Fs.writeFile(conf, opensslConf), Fs.writeFile(script, pythonScript)]))
      const served = yield* Simulator.serve({ protocol: "https", channelBindings: "required", caPemPath: ca })
      const env = { ...process.env, OPENSSL_CONF: conf }
      const python = (user: string, password: string, cbt: "0" | "1") =>
        Effect.map(run("/usr/bin/python3", [script, served.url, user, password, ca, cbt], env), (ran) => {
          assert.strictEqual(ran.code, 0, ran.stdout)
          return JSON.parse(ran.stdout)
        })
      const good = yield* python("CORP\\alice", "Passw0rd!", "1")
      assert.deepStrictEqual(good, {
        authorize: 200,
        refresh1: 200,
        refresh2: 400,
        refresh2_reason: "Grant has been revoked, has expired, or the refresh token is invalid",
        refresh2_error: "invalid_grant"
      })
      assert.deepStrictEqual(yield* python("CORP\\alice", "wrong", "1"), { authorize: 401 })
      assert.deepStrictEqual(yield* python("CORP\\alice", "Passw0rd!", "0"), { authorize: 401 })
      const stats = yield* served.simulator.stats
      assert.strictEqual(stats.handshakesCompleted, 1)
      assert.deepStrictEqual(stats.rejections, { "bad-proof": 1, "missing-channel-bindings": 1 })
    }).pipe(Effect.scoped))

  it.live("many concurrent connections with garbage get 4xx answers and the server stays up", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const ca = Path.join(dir, "ca.pem")
      const served = yield* Simulator.serve({ protocol: "https", maxBodyBytes: 4096, caPemPath: ca })
      const agent = new Https.Agent({ ca: served.caPem, keepAlive: false, maxSockets: 200 })
      const request = (i: number) =>
        Effect.async<number>((resume) => {
          const kinds = [
            {
              path: "/vedauth/authorize/integrated",
              auth: `NTLM ${Buffer.from(`junk-${i}`).toString("base64")}`,
              body: ""
            },
            { path: "/vedauth/authorize/integrated", auth: "NTLM TlRMTVNTUAADAAAA", body: "{}" },
            { path: "/vedauth/authorize/oauth", auth: "", body: "{not json" },
            { path: "/vedauth/authorize/token", auth: "", body: "x".repeat(10_000) },
            { path: "/VEDAUTH/authorize/verify", auth: "Bearer nope==", body: "" }
          ]
          const kind = kinds[i % kinds.length]!
          const req = Https.request(`${served.url}${kind.path}`, {
            method: kind.path.endsWith("verify") ? "GET" : "POST",
            agent,
            headers: kind.auth === "" ? {} : { authorization: kind.auth }
          }, (res) => {
            res.resume()
            res.on("end", () => resume(Effect.succeed(res.statusCode ?? 0)))
          })
          // A 413 may close the socket while the body is still being sent.
          req.on("error", () => resume(Effect.succeed(413)))
          req.end(kind.body)
        })
      const statuses = yield* Effect.forEach(Array.from({ length: 150 }, (_, i) => i), request, { concurrency: 150 })
      agent.destroy()
      for (const status of statuses) assert.isTrue(status >= 400 && status < 500, `status ${status}`)
      const probe = yield* run("curl", [
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--cacert",
        ca,
        `${served.url}/vedauth/authorize/isAuthServer`
      ])
      assert.strictEqual(probe.stdout, "200")
    }).pipe(Effect.scoped))
})
