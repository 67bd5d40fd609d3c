/**
 * `vedauth simulate`'s grant options as a process: a client CA and a JWT issuer key made by openssl
 * (bring your own), the files it writes for the demo user (checked by openssl), and its usage errors.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { execFileSync } from "node:child_process"
import { claims, fails, ok, opensslKit } from "./support/grants.js"
import { bin, collect, runCli } from "./support/runCli.js"

// `vedauth simulate args...` in the background until the test's scope closes; its URL and stderr.
const simulate = (args: ReadonlyArray<string>, home: string) =>
  Effect.gen(function*() {
    const ready = yield* Deferred.make<{ readonly url: string; readonly stderr: string }>()
    const fiber = yield* Effect.forkScoped(
      collect(process.execPath, [bin, "simulate", ...args], {
        env: { PATH: process.env["PATH"] ?? "", HOME: home },
        // The URL line comes first, then what it says about itself in one write to stderr.
        watch: (output) => {
          const url = /^(https?:\/\/\S+)\n/.exec(output.stdout)?.[1]
          if (url !== undefined && output.stderr.endsWith("\n")) {
            Deferred.unsafeDone(ready, Effect.succeed({ url, stderr: output.stderr }))
          }
        }
      })
    )
    // A simulator that stops before it listens ends the wait with what it said.
    yield* Effect.forkScoped(
      Effect.flatMap(Fiber.join(fiber), (output) => Deferred.die(ready, new Error(`simulate ended: ${output.stderr}`)))
    )
    return yield* Deferred.await(ready)
  })

const openssl = (...args: ReadonlyArray<string>) => execFileSync("openssl", args, { encoding: "utf8" })

describe("vedauth simulate for the other grants", () => {
  it.scopedLive("--client-ca and --jwt-key with openssl's CA and key: the certificate and JWT grants against it", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-simulate-" })
      const kit = opensslKit(dir)
      const alice = kit.certificate("alice")
      yield* fs.writeFileString(`${dir}/alice.jwt`, kit.jwt(claims("CORP\\alice")))
      const { stderr, url } = yield* simulate(
        [
          "--tls",
          "--cert-out",
          `${dir}/tpp.pem`,
          "--client-ca",
          kit.file("client-ca.pem"),
          "--jwt-key",
          kit.file("issuer.pub")
        ],
        dir
      )
      assert.include(stderr, `accepting client certificates issued by the CA in ${kit.file("client-ca.pem")}`)
      assert.include(stderr, "trusting JWTs signed by the key in")
      const env = {
        HOME: dir,
        VEDAUTH_URL: url,
        VEDAUTH_CLIENT_ID: "vedauth-demo",
        VEDAUTH_SCOPE: "certificate:manage",
        VEDAUTH_CA_FILE: `${dir}/tpp.pem`
      }
      ok(
        yield* runCli(["login", "--grant", "certificate", "--client-cert", alice.cert, "--client-key", alice.key], {
          env
        })
      )
      ok(yield* runCli(["login", "--grant", "jwt", "--jwt-file", `${dir}/alice.jwt`, "--profile", "jwt"], { env }))
      // A JWT the simulator did not sign with that key, and a certificate another CA issued: refused.
      const other = kit.certificate("alice-elsewhere", { selfSigned: true })
      yield* fs.writeFileString(`${dir}/forged.jwt`, kit.jwt(claims("CORP\\alice"), other.key))
      fails(
        yield* runCli(["login", "--grant", "jwt", "--jwt-file", `${dir}/forged.jwt`, "--profile", "x"], { env }),
        2,
        /^error: InvalidGrant: /
      )
      fails(
        yield* runCli([
          "login",
          "--grant",
          "certificate",
          "--client-cert",
          other.cert,
          "--client-key",
          other.key,
          "--profile",
          "y"
        ], { env }),
        2,
        /^error: InvalidGrant: /
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("--client-cert-out/--client-key-out and --jwt-out write files for the demo user that openssl reads", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-simulate-" })
      const { stderr } = yield* simulate(
        [
          "--tls",
          "--client-cert-out",
          `${dir}/alice.pem`,
          "--client-key-out",
          `${dir}/alice.key`,
          "--jwt-out",
          `${dir}/demo.jwt`
        ],
        dir
      )
      assert.include(
        stderr,
        `client certificate of CORP\\alice written to ${dir}/alice.pem, its key to ${dir}/alice.key`
      )
      assert.match(openssl("x509", "-in", `${dir}/alice.pem`, "-noout", "-subject"), /CN\s*=\s*alice/)
      assert.strictEqual(
        openssl("pkey", "-in", `${dir}/alice.key`, "-pubout"),
        openssl("x509", "-in", `${dir}/alice.pem`, "-noout", "-pubkey"),
        "the key is the certificate's"
      )
      assert.strictEqual((yield* fs.stat(`${dir}/alice.key`)).mode & 0o777, 0o600)
      assert.strictEqual((yield* fs.stat(`${dir}/demo.jwt`)).mode & 0o777, 0o600)
      const [, payload] = (yield* fs.readFileString(`${dir}/demo.jwt`)).trim().split(".")
      const jwt = JSON.parse(Buffer.from(payload ?? "", "base64url").toString())
      assert.strictEqual(jwt.sub, "CORP\\alice")
      assert.notInclude(stderr, (yield* fs.readFileString(`${dir}/demo.jwt`)).trim(), "the JWT goes to the file only")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.live("usage errors: what needs --tls, what goes together, what must be a number or PEM", () =>
    Effect.gen(function*() {
      const expect = (args: ReadonlyArray<string>, detail: string) =>
        Effect.map(
          runCli(["simulate", ...args]),
          (run) => fails(run, 1, new RegExp(`^error: UsageError: ${detail.replace(/[()[\]\\.?*+]/g, "\\$&")}\n$`))
        )
      yield* expect(["--client-ca", "ca.pem"], "client certificates need HTTPS: add --tls (--client-ca)")
      yield* expect(
        ["--tls", "--client-cert-out", "a.pem"],
        "the client certificate and its key are written together: give both (--client-cert-out and --client-key-out)"
      )
      yield* expect(
        ["--jwt-key", "k.pem", "--jwt-out", "x.jwt"],
        "the simulator can sign a JWT only with a key of its own: drop --jwt-key, or sign with yours (--jwt-out)"
      )
      yield* expect(
        ["--device-approve-after", "soon"],
        "'soon' is not a whole number from 0 to 1000 (--device-approve-after)"
      )
      yield* expect(
        ["--tls", "--client-ca", "/nonexistent/ca.pem"],
        "cannot read a CA certificate (PEM) from '/nonexistent/ca.pem': it does not exist (--client-ca)"
      )
      yield* expect(
        ["--jwt-key", "/nonexistent/key.pem"],
        "cannot read a public key (PEM) from '/nonexistent/key.pem': it does not exist (--jwt-key)"
      )
    }))
})
