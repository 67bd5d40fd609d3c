import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Deferred, Effect, Exit, Fiber, Redacted } from "effect"
import { type spawn, spawn as spawnProcess } from "node:child_process"
import * as Net from "node:net"
import { bin, type Run, runCli } from "./support/runCli.js"

const password = Redacted.value(Simulator.defaultCredentials.password)

// A served simulator and a fresh store folder; the env a script would export. The tests run on the
// live clock: the CLI processes read the real time, so the simulator must too.
const setup = (protocol: "http" | "https") =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-" })
    const served = yield* Simulator.serve({ protocol, ...(protocol === "https" ? { caPemPath: `${dir}/ca.pem` } : {}) })
    const env: Record<string, string> = {
      VEDAUTH_URL: served.url,
      VEDAUTH_CLIENT_ID: Simulator.defaultClientId,
      VEDAUTH_SCOPE: "certificate:manage",
      VEDAUTH_USERNAME: "CORP\\alice",
      VEDAUTH_TOKEN_STORE: `${dir}/store/tokens.json`,
      ...(protocol === "https" ? { VEDAUTH_CA_FILE: `${dir}/ca.pem` } : {})
    }
    return { dir, served, env, fs }
  })

const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)

// Every byte a run showed the world: the password and the live tokens must be in none of it.
const assertNoSecrets = (runs: ReadonlyArray<Run>, secrets: ReadonlyArray<string>) => {
  for (const run of runs) {
    for (const secret of secrets) {
      assert.notInclude(run.argv.join(" "), secret)
      assert.notInclude(run.stderr, secret)
    }
  }
}

describe("vedauth over HTTPS with --ca-file or VEDAUTH_CA_FILE", () => {
  it.scopedLive("login, token twice (the second from the store, no request), verify, refresh, revoke", () =>
    Effect.gen(function*() {
      const { dir, env, fs, served } = yield* setup("https")
      // The CA by flag here, by VEDAUTH_CA_FILE in the later calls.
      const { VEDAUTH_CA_FILE: caFile = "", ...withoutCa } = env
      const login = yield* runCli(["login", "--password-stdin", "--ca-file", caFile], {
        env: withoutCa,
        stdin: `${password}\n`
      })
      ok(login)
      assert.include(login.stdout, "identity    AD+corp:")
      assert.include(login.stdout, "scope       certificate:manage")

      const first = yield* runCli(["token"], { env })
      ok(first)
      assert.match(first.stdout, /^[A-Za-z0-9+/]+=*\n$/)
      const before = yield* served.simulator.stats
      const second = yield* runCli(["token"], { env })
      ok(second)
      assert.strictEqual(second.stdout, first.stdout)
      assert.strictEqual((yield* served.simulator.stats).requests, before.requests, "a cached token needs no request")

      const verify = yield* runCli(["verify", "--json"], { env })
      ok(verify)
      const info = JSON.parse(verify.stdout)
      assert.strictEqual(info.application, Simulator.defaultClientId)
      assert.isAbove(info.validForSeconds, 3000)

      const refresh = yield* runCli(["refresh", "--json"], { env })
      ok(refresh)
      const third = yield* runCli(["token"], { env })
      assert.notStrictEqual(third.stdout, first.stdout, "refresh rotated the access token")

      const revoke = yield* runCli(["revoke"], { env })
      ok(revoke)
      assert.include(revoke.stdout, "revoked: Grant for identity")
      const verifyRevoked = yield* runCli(["verify"], { env })
      assert.strictEqual(verifyRevoked.code, 2, "nothing stored after revoke")

      // The password is nowhere but the store never even holds it; tokens only in the store file.
      const tokens = [first.stdout.trim(), third.stdout.trim()]
      const runs = [login, first, second, verify, refresh, third, revoke, verifyRevoked]
      assertNoSecrets(runs, [password])
      assertNoSecrets(runs.filter((run) => run.argv[1] !== "token"), tokens)
      for (const run of runs) assert.notInclude(run.stdout, password)
      for (const file of yield* fs.readDirectory(dir, { recursive: true })) {
        const path = `${dir}/${file}`
        if ((yield* fs.stat(path)).type !== "File") continue
        const text = yield* fs.readFileString(path)
        assert.notInclude(text, password, `${file} holds the password`)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("login --json prints the documented object and never a token", () =>
    Effect.gen(function*() {
      const { env } = yield* setup("https")
      const login = yield* runCli(["login", "--password-stdin", "--json"], { env, stdin: password })
      ok(login)
      const summary = JSON.parse(login.stdout)
      assert.deepStrictEqual(Object.keys(summary).sort(), [
        "expiresAt",
        "identity",
        "refreshUntil",
        "scope",
        "tokenType"
      ])
      assert.strictEqual(summary.tokenType, "Bearer")
      assert.match(summary.expiresAt, /^\d{4}-\d\d-\d\dT/)
      const token = yield* runCli(["token"], { env })
      assert.notInclude(login.stdout, token.stdout.trim())
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("without the CA the server's certificate is refused: exit 4", () =>
    Effect.gen(function*() {
      const { env } = yield* setup("https")
      const { VEDAUTH_CA_FILE: _, ...withoutCa } = env
      const run = yield* runCli(["login", "--password-stdin"], { env: withoutCa, stdin: password })
      assert.strictEqual(run.code, 4)
      assert.match(run.stderr, /^error: TransportError: .*\n$/)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("vedauth over HTTP: flags instead of the environment, and each error class", () => {
  it.scopedLive("flags work alone; one store holds several scopes side by side", () =>
    Effect.gen(function*() {
      const { dir, served } = yield* setup("http")
      const flags = (scope: string) => [
        "--url",
        served.url,
        "--client-id",
        Simulator.defaultClientId,
        "--scope",
        scope,
        "--username",
        "CORP\\alice",
        "--store",
        `${dir}/tokens.json`
      ]
      ok(yield* runCli(["login", ...flags("certificate:manage"), "--password-stdin"], { stdin: password }))
      ok(yield* runCli(["login", ...flags("configuration:manage"), "--password-stdin"], { stdin: password }))
      const a = yield* runCli(["token", ...flags("certificate:manage")])
      const b = yield* runCli(["token", ...flags("configuration:manage")])
      ok(a)
      ok(b)
      assert.notStrictEqual(a.stdout, b.stdout)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("exit codes: 1 usage, 2 refused, 3 credentials, 4 transport, 5 unexpected, 6 store", () =>
    Effect.gen(function*() {
      const { dir, env, fs, served } = yield* setup("http")
      const { VEDAUTH_URL: _, ...noUrl } = env
      const usage = yield* runCli(["login", "--password-stdin"], { env: noUrl, stdin: password })
      assert.strictEqual(usage.code, 1)
      assert.strictEqual(usage.stderr, "error: UsageError: missing the server URL (--url or VEDAUTH_URL)\n")

      const { VEDAUTH_USERNAME: _user, ...noUser } = env
      const noUsername = yield* runCli(["login", "--password-stdin"], { env: noUser, stdin: password })
      assert.strictEqual(noUsername.code, 1)
      assert.include(noUsername.stderr, "--username")

      // `token` takes a lean path; anything it does not understand goes to the full CLI's usage errors.
      const tokenTypo = yield* runCli(["token", "--sope", "x"], { env })
      assert.strictEqual(tokenTypo.code, 1)
      assert.strictEqual(
        tokenTypo.stderr,
        "error: UsageError: unknown option --sope for vedauth token; did you mean '--scope'? (see vedauth help token)\n"
      )
      const tokenNoUrl = yield* runCli(["token"], { env: noUrl })
      assert.strictEqual(tokenNoUrl.code, 1)

      const flag = yield* runCli(["login", "--password", password], { env })
      assert.strictEqual(flag.code, 1)
      assert.include(flag.stderr, "--password-stdin")

      const scope = yield* runCli(["login", "--password-stdin", "--scope", "admin:delete"], { env, stdin: password })
      assert.strictEqual(scope.code, 2)
      assert.match(scope.stderr, /^error: InvalidScope: .+\n$/)

      const notLoggedIn = yield* runCli(["verify"], { env })
      assert.strictEqual(notLoggedIn.code, 2)

      const wrong = yield* runCli(["login", "--password-stdin"], { env, stdin: "not-the-password" })
      assert.strictEqual(wrong.code, 3)
      assert.match(wrong.stderr, /^error: AuthenticationFailed: .+\n$/)
      assert.notInclude(wrong.stderr, "not-the-password")

      const refused = yield* runCli(["login", "--password-stdin"], {
        env: { ...env, VEDAUTH_URL: "http://127.0.0.1:9" },
        stdin: password
      })
      assert.strictEqual(refused.code, 4)

      yield* served.simulator.setFaults({ nonJsonBody: true })
      const unexpected = yield* runCli(["login", "--password-stdin"], { env, stdin: password })
      assert.strictEqual(unexpected.code, 5, unexpected.stderr)
      yield* served.simulator.setFaults({})

      yield* fs.makeDirectory(`${dir}/store`, { recursive: true, mode: 0o700 })
      // Mode 0600, as a store of one's own is: a looser one would add a warning that it was tightened.
      yield* fs.writeFileString(`${dir}/store/tokens.json`, "{ not json", { mode: 0o600 })
      const corrupt = yield* runCli(["login", "--password-stdin"], { env, stdin: password })
      assert.strictEqual(corrupt.code, 6)
      assert.match(corrupt.stderr, /^error: TokenStoreError: .+\n$/)
      assert.strictEqual(
        yield* fs.readFileString(`${dir}/store/tokens.json`),
        "{ not json",
        "a corrupt store is never overwritten"
      )

      for (const run of [usage, flag, scope, wrong, refused, unexpected, corrupt]) {
        assert.notInclude(run.stderr, "    at ", "no stack trace")
        assert.notInclude(run.stderr + run.stdout, password)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("the password prompt on a terminal", () => {
  it.scopedLive("asks on the terminal without echo, only when an authorize is needed", () =>
    Effect.gen(function*() {
      const { env } = yield* setup("http")
      // `script` gives the CLI a real pseudo-terminal; the password is typed when the prompt shows.
      const typeAtPrompt = (command: string) =>
        Effect.async<string>((resume) => {
          const child = spawnProcess("script", ["-qec", command, "/dev/null"], { env: { ...process.env, ...env } })
          let screen = ""
          let typed = false
          child.stdout.on("data", (chunk: Buffer) => {
            screen += chunk.toString()
            if (!typed && screen.includes("Password for CORP\\alice: ")) {
              typed = true
              child.stdin.write(`${password}\r`)
            }
          })
          child.on("close", () => resume(Effect.succeed(screen)))
          return Effect.sync(() => child.kill())
        })
      const first = yield* typeAtPrompt(`${process.execPath} ${bin} token`)
      assert.include(first, "Password for CORP\\alice: ")
      assert.notInclude(first, password, "the password is not echoed")
      assert.match(first, /[A-Za-z0-9+/]{16,}=*/)
      // The token is now stored: no prompt, no password needed.
      const second = yield* typeAtPrompt(`${process.execPath} ${bin} token`)
      assert.notInclude(second, "Password for")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("vedauth stopped by a signal", () => {
  it.live("exits 143 on SIGTERM while waiting for a server, never 0 with an empty token", () =>
    Effect.gen(function*() {
      // A server that accepts the connection and never answers: the CLI waits, then is told to stop.
      const connected = yield* Deferred.make<void>()
      const server = Net.createServer(() => Deferred.unsafeDone(connected, Exit.void))
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => void server.listen(0, "127.0.0.1", () => resume(Effect.void))),
        () => Effect.sync(() => server.close())
      )
      const { port } = server.address() as Net.AddressInfo
      const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped({ prefix: "vedauth-cli-signal-" })
      let child: ReturnType<typeof spawn> | undefined
      const run = yield* Effect.fork(
        runCli(["login", "--password-stdin"], {
          env: {
            VEDAUTH_URL: `http://127.0.0.1:${port}`,
            VEDAUTH_CLIENT_ID: "vedauth-demo",
            VEDAUTH_SCOPE: "certificate:manage",
            VEDAUTH_USERNAME: "CORP\\alice",
            VEDAUTH_TOKEN_STORE: `${dir}/tokens.json`
          },
          stdin: password,
          onSpawn: (spawned) => (child = spawned)
        })
      )
      yield* Deferred.await(connected)
      child?.kill("SIGTERM")
      const result = yield* Fiber.join(run)
      assert.strictEqual(result.code, 143)
      assert.strictEqual(result.stdout, "")
    }).pipe(Effect.scoped, Effect.provide(NodeFileSystem.layer)))
})

describe("a reader that goes away", () => {
  it.live("`vedauth demo | head -1`: the demo stops quietly with 141, no stack trace", () =>
    Effect.async<{ readonly code: number | null; readonly stderr: string }>((resume) => {
      const child = spawnProcess(process.execPath, [bin, "demo"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { PATH: process.env["PATH"] ?? "" }
      })
      let stderr = ""
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
      // Like `head -1`: read the first chunk, then close the pipe.
      child.stdout.once("data", () => child.stdout.destroy())
      child.on("close", (code) => resume(Effect.succeed({ code, stderr })))
      return Effect.sync(() => child.kill())
    }).pipe(Effect.map(({ code, stderr }) => {
      assert.strictEqual(code, 141)
      assert.notInclude(stderr, "EPIPE")
      assert.notInclude(stderr, "    at ")
    })))
})

describe("vedauth demo", () => {
  it.live("runs the whole story and exits 0 with no secret shown", () =>
    Effect.gen(function*() {
      const run = yield* runCli(["demo"])
      ok(run)
      for (
        const step of [
          "Authorize with Integrated Windows Authentication",
          "Refresh",
          "InsufficientScope",
          "InvalidGrant",
          "Revoke"
        ]
      ) {
        assert.include(run.stdout, step)
      }
      assert.include(run.stdout, "2 round trips on 1 connection")
      assert.notInclude(run.stdout, password)
    }))
})
