/**
 * Every non-Windows grant over real HTTPS against the simulator on loopback, with keys and
 * certificates made by openssl (not by our code): our Node client (`NodeVedAuth`) and, as an
 * independent peer, curl (`--cert/--key` for the certificate grant; a JWT signed by `openssl dgst`;
 * the password grant; the device flow by form posts).
 */
import { assert, describe, it } from "@effect/vitest"
import { Credentials } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as NodeVedAuth from "@vedauth/platform-node/NodeVedAuth"
import { Effect, Redacted } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import * as Simulator from "../src/Simulator.js"

const execFile = promisify(ChildProcess.execFile)

const run = (command: string, args: ReadonlyArray<string>, input?: string): string =>
  ChildProcess.execFileSync(command, args, {
    encoding: "utf8",
    ...(input === undefined ? {} : { input }),
    stdio: ["pipe", "pipe", "pipe"]
  })

const base64url = (bytes: Buffer): string =>
  bytes.toString("base64").replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

// A client CA, a client certificate for CN=alice signed by it, and an RS256 JWT issuer key: all openssl's.
const makeKeys = (dir: string) => {
  const file = (name: string) => Path.join(dir, name)
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
  run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    file("client-ca.key"),
    "-out",
    file("client-ca.pem"),
    "-subj",
    "/CN=vedauth client CA",
    "-days",
    "1"
  ])
  run("openssl", ["req", ...ec, "-keyout", file("alice.key"), "-out", file("alice.csr"), "-subj", "/CN=alice"])
  run("openssl", [
    "x509",
    "-req",
    "-in",
    file("alice.csr"),
    "-CA",
    file("client-ca.pem"),
    "-CAkey",
    file("client-ca.key"),
    "-CAcreateserial",
    "-out",
    file("alice.pem"),
    "-days",
    "1"
  ])
  run("openssl", [
    "req",
    "-x509",
    ...ec,
    "-keyout",
    file("stranger.key"),
    "-out",
    file("stranger.pem"),
    "-subj",
    "/CN=alice",
    "-days",
    "1"
  ])
  run("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", file("issuer.key")])
  run("openssl", ["pkey", "-in", file("issuer.key"), "-pubout", "-out", file("issuer.pub")])
  return file
}

const signJwt = (keyFile: string, claims: Record<string, unknown>): string => {
  const input = `${base64url(Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })))}.${
    base64url(Buffer.from(JSON.stringify(claims)))
  }`
  const signature = ChildProcess.execFileSync("openssl", ["dgst", "-sha256", "-sign", keyFile], { input })
  return `${input}.${base64url(signature)}`
}

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-grants-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

const setup = Effect.gen(function*() {
  const dir = yield* tempDir
  const file = makeKeys(dir)
  const served = yield* Simulator.serve({
    caPemPath: file("server-ca.pem"),
    clientCa: Fs.readFileSync(file("client-ca.pem"), "utf8"),
    jwt: { publicKeyPem: Fs.readFileSync(file("issuer.pub"), "utf8") },
    // One second, the quickest pace vedauth keeps (it waits 5 seconds when told less); approved on the
    // first poll, so that curl's polls, back to back, are never too soon.
    device: { interval: 1, autoApproveAfterPolls: 0 }
  })
  const options = (
    credentials: Credentials.Credentials,
    transport: NodeVedAuth.Options["transport"] = {}
  ): NodeVedAuth.Options => ({
    url: served.url,
    clientId: Simulator.defaultClientId,
    scope: "certificate:manage",
    credentials,
    transport: { caFile: file("server-ca.pem"), ...transport },
    tokenStorePath: file("tokens.json")
  })
  // Asynchronous: the simulator answers from this very process, so a blocking call would deadlock.
  const curl = (args: ReadonlyArray<string>) =>
    Effect.map(
      Effect.promise(() =>
        execFile("curl", ["--silent", "--show-error", "--max-time", "20", "--cacert", file("server-ca.pem"), ...args])
      ),
      ({ stdout }) => JSON.parse(stdout) as Record<string, unknown>
    )
  const claims = {
    iss: "https://kubernetes.default.svc",
    aud: "vedauth",
    sub: "CORP\\alice",
    exp: Math.floor(Date.now() / 1000) + 600
  }
  return { file, served, options, curl, claims }
})

const alice = "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}"

describe("every grant over HTTPS (openssl keys, our Node client and curl)", () => {
  it.live("certificate: NodeVedAuth with the client certificate from files; curl --cert/--key; an untrusted or missing certificate is refused", () =>
    Effect.gen(function*() {
      const { curl, file, options, served } = yield* setup
      const grant = yield* VedAuth.authorize().pipe(
        Effect.provide(
          NodeVedAuth.layer(
            options(Credentials.certificate, {
              clientCertificateFiles: { cert: file("alice.pem"), key: file("alice.key") }
            })
          )
        )
      )
      assert.strictEqual(grant.identity, alice)
      const none = yield* Effect.flip(
        VedAuth.authorize().pipe(Effect.provide(NodeVedAuth.layer(options(Credentials.certificate))))
      )
      assert.strictEqual(none._tag, "InvalidGrant")
      const stranger = yield* Effect.flip(
        VedAuth.authorize().pipe(
          Effect.provide(
            NodeVedAuth.layer(
              options(Credentials.certificate, {
                clientCertificateFiles: { cert: file("stranger.pem"), key: file("stranger.key") }
              })
            )
          )
        )
      )
      assert.strictEqual(stranger._tag, "InvalidGrant")
      const body = JSON.stringify({ client_id: Simulator.defaultClientId, scope: "certificate:manage" })
      const byCurl = yield* curl([
        "--cert",
        file("alice.pem"),
        "--key",
        file("alice.key"),
        "-H",
        "content-type: application/json",
        "--data",
        body,
        `${served.url}/vedauth/authorize/certificate`
      ])
      assert.strictEqual(byCurl.identity, alice)
    }).pipe(Effect.scoped))

  it.live("jwt: a JWT signed by openssl, read from a file by NodeVedAuth and posted by curl; a tampered one is InvalidGrant", () =>
    Effect.gen(function*() {
      const { claims, curl, file, options, served } = yield* setup
      const jwt = signJwt(file("issuer.key"), claims)
      Fs.writeFileSync(file("token"), `${jwt}\n`)
      const grant = yield* VedAuth.authorize().pipe(
        Effect.provide(NodeVedAuth.layer(options(Credentials.jwtFile(file("token")))))
      )
      assert.strictEqual(grant.identity, alice)
      const byCurl = yield* curl([
        "-H",
        "content-type: application/json",
        "--data",
        JSON.stringify({ client_id: Simulator.defaultClientId, scope: "certificate:manage", jwt }),
        `${served.url}/vedauth/authorize/jwt`
      ])
      assert.strictEqual(byCurl.identity, alice)
      const tampered = signJwt(file("issuer.key"), { ...claims, sub: "CORP\\bob" }).split(".")
      const forged = [jwt.split(".")[0], tampered[1], jwt.split(".")[2]].join(".")
      const error = yield* Effect.flip(
        VedAuth.authorize().pipe(
          Effect.provide(NodeVedAuth.layer(options(Credentials.jwt(Effect.succeed(Redacted.make(forged))))))
        )
      )
      assert.strictEqual(error._tag, "InvalidGrant")
      assert.include(error.message, "signature")
    }).pipe(Effect.scoped))

  it.live("password and device: curl and NodeVedAuth", () =>
    Effect.gen(function*() {
      const { curl, options, served } = yield* setup
      const byCurl = yield* curl([
        "-H",
        "content-type: application/json",
        "--data",
        JSON.stringify({
          client_id: Simulator.defaultClientId,
          scope: "certificate:manage",
          username: "CORP\\alice",
          password: "Passw0rd!"
        }),
        `${served.url}/vedauth/authorize/oauth`
      ])
      assert.strictEqual(byCurl.identity, alice)
      const grant = yield* VedAuth.authorize().pipe(
        Effect.provide(
          NodeVedAuth.layer({
            ...options(Credentials.password),
            username: "CORP\\alice",
            password: Simulator.defaultCredentials.password
          })
        )
      )
      assert.strictEqual(grant.identity, alice)

      const device = yield* curl([
        "--data-urlencode",
        `client_id=${Simulator.defaultClientId}`,
        "--data-urlencode",
        "scope=certificate:manage",
        `${served.url}/vedauth/authorize/device`
      ])
      const poll = curl([
        "--data-urlencode",
        "grant_type=urn:ietf:params:oauth:grant-type:device_code",
        "--data-urlencode",
        `device_code=${String(device.device_code)}`,
        "--data-urlencode",
        `client_id=${Simulator.defaultClientId}`,
        `${served.url}/vedauth/authorize/token`
      ])
      assert.strictEqual((yield* poll).identity, alice) // approved on the first poll
      assert.strictEqual((yield* poll).error, "invalid_grant") // a device code is exchanged once
      let prompted: Credentials.DevicePrompt | undefined
      const byLibrary = yield* VedAuth.authorize().pipe(
        Effect.provide(NodeVedAuth.layer(options(Credentials.device((prompt) =>
          Effect.sync(() => {
            prompted = prompt
          })
        ))))
      )
      assert.strictEqual(byLibrary.identity, alice)
      assert.match(prompted?.userCode ?? "", /^[A-Z]{4}-[A-Z]{4}$/)
    }).pipe(Effect.scoped), 30_000)
})
