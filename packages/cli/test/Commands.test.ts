import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { readFileSync } from "node:fs"
import { bin, collect, type Run, runCli } from "./support/runCli.js"

const password = Redacted.value(Simulator.defaultCredentials.password)
const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)

// A simulator (with `options`) and a folder of the test's own for HOME, the store and files.
const setup = (options: Simulator.ServeOptions = {}) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-" })
    const served = yield* Simulator.serve({ protocol: "http", ...options })
    const server = ["--url", served.url, "--client-id", Simulator.defaultClientId, "--scope", "certificate:manage"]
    return { dir, fs, served, server, home: { HOME: dir } }
  })

describe("the current grant and profiles", () => {
  it.scopedLive("after login, every command works with no selectors; the user's other spelling finds the same grant", () =>
    Effect.gen(function*() {
      const { home, server, served } = yield* setup()
      ok(
        yield* runCli(["login", ...server, "--username", "CORP\\alice", "--password-stdin"], {
          env: home,
          stdin: password
        })
      )
      const token = yield* runCli(["token"], { env: home })
      ok(token)
      const before = (yield* served.simulator.stats).requests
      for (const user of ["alice@corp", "corp\\ALICE"]) {
        const again = yield* runCli(["token", ...server, "--username", user], { env: home })
        assert.strictEqual(again.stdout, token.stdout, user)
      }
      assert.strictEqual((yield* served.simulator.stats).requests, before, "the stored grant was found, no authorize")
      ok(yield* runCli(["verify"], { env: home }))
      ok(yield* runCli(["refresh", "--json"], { env: home }))
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("with no user given, the one stored grant is used; two users ask for --username", () =>
    Effect.gen(function*() {
      const bob = { name: "bob", password: Redacted.make("Bob-Passw0rd") }
      const { dir, fs, home, server } = yield* setup({
        users: [{ name: "alice", password: Simulator.defaultCredentials.password }, bob]
      })
      ok(
        yield* runCli(["login", ...server, "--username", "CORP\\alice", "--password-stdin"], {
          env: home,
          stdin: password
        })
      )
      yield* fs.remove(`${dir}/.local/state/vedauth/profiles.json`)
      ok(yield* runCli(["verify", ...server], { env: home }))
      ok(
        yield* runCli(["login", ...server, "--username", "CORP\\bob", "--password-stdin"], {
          env: home,
          stdin: "Bob-Passw0rd"
        })
      )
      // The profile names bob now: without it, neither user is the obvious one.
      yield* fs.remove(`${dir}/.local/state/vedauth/profiles.json`)
      const both = yield* runCli(["token", ...server], { env: home })
      assert.strictEqual(both.code, 1)
      assert.match(
        both.stderr,
        /^error: UsageError: 2 users have grants .*corp\\alice.*corp\\bob.*\(--username or VEDAUTH_USERNAME\)\n$/
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("named profiles: --profile and VEDAUTH_PROFILE pick one; explicit selectors still win", () =>
    Effect.gen(function*() {
      const { home, server } = yield* setup()
      const login = (profile: string, scope: string) =>
        runCli([
          "login",
          ...server,
          "--scope",
          scope,
          "--username",
          "CORP\\alice",
          "--profile",
          profile,
          "--password-stdin",
          "--json"
        ], {
          env: home,
          stdin: password
        })
      ok(yield* login("certs", "certificate:manage"))
      ok(yield* login("config", "configuration:manage"))
      const verifyScope = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
        Effect.map(runCli(["verify", "--json", ...args], { env: { ...home, ...env } }), (run) => {
          ok(run)
          return JSON.parse(run.stdout).scope as string
        })
      assert.strictEqual(yield* verifyScope([]), "configuration:manage", "the last login is current")
      assert.strictEqual(yield* verifyScope(["--profile", "certs"]), "certificate:manage")
      assert.strictEqual(yield* verifyScope([], { VEDAUTH_PROFILE: "certs" }), "certificate:manage")
      assert.strictEqual(yield* verifyScope(["--scope", "certificate:manage"]), "certificate:manage")
      const missing = yield* runCli(["token", "--profile", "nope"], { env: home })
      assert.strictEqual(
        missing.stderr,
        "error: UsageError: there is no profile 'nope': log in with it first (--profile)\n"
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("status and logout", () => {
  it.scopedLive("status lists every grant and never a token; logout revokes at the server and removes it", () =>
    Effect.gen(function*() {
      const { home, server, served } = yield* setup()
      const login = (scope: string) =>
        runCli(["login", ...server, "--scope", scope, "--username", "CORP\\alice", "--password-stdin"], {
          env: home,
          stdin: password
        })
      ok(yield* login("configuration:manage"))
      ok(yield* login("certificate:manage"))
      const token = (yield* runCli(["token"], { env: home })).stdout.trim()
      const status = yield* runCli(["status"], { env: home })
      ok(status)
      assert.match(status.stdout, /^token store .*tokens\.json; current profile: default\n\n/)
      assert.strictEqual(status.stdout.match(/ server {6}/g)?.length, 2)
      assert.include(status.stdout, "* server      http://127.0.0.1:")
      assert.include(status.stdout, "  user        corp\\alice\n  identity    AD+corp:{")
      assert.include(status.stdout, "  profile     default (current)")
      assert.notInclude(status.stdout, token)
      const json = yield* runCli(["status", "--json"], { env: home })
      const listed = JSON.parse(json.stdout)
      assert.deepStrictEqual(listed.grants.map((grant: { scope: string }) => grant.scope).sort(), [
        "certificate:manage",
        "configuration:manage"
      ])
      assert.notInclude(json.stdout, token)

      const logout = yield* runCli(["logout"], { env: home })
      ok(logout)
      assert.strictEqual(logout.stdout, "")
      assert.match(
        logout.stderr,
        /^logged out corp\\alice at http:\/\/127\.0\.0\.1:\d+ \(vedauth-demo, certificate:manage\): revoked, removed from the store\n$/
      )
      assert.strictEqual(
        (yield* served.simulator.grants).filter((grant) => grant.scope === "certificate:manage").length,
        0
      )
      const all = yield* runCli(["logout", "--all", "--json"], { env: home })
      ok(all)
      assert.deepStrictEqual(
        JSON.parse(all.stdout).grants.map((grant: { revoked: boolean; scope: string }) => [grant.scope, grant.revoked]),
        [["configuration:manage", true]]
      )
      assert.include((yield* runCli(["status"], { env: home })).stdout, "no grants stored")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("logout with the server unreachable keeps the grant, says so, exits 4; --force removes it unrevoked", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      // A simulator of its own, closed after the login.
      yield* Effect.scoped(Effect.gen(function*() {
        const gone = yield* Simulator.serve({ protocol: "http" })
        ok(
          yield* runCli([
            "login",
            "--url",
            gone.url,
            "--client-id",
            Simulator.defaultClientId,
            "--scope",
            "certificate:manage",
            "--username",
            "CORP\\alice",
            "--password-stdin"
          ], { env: home, stdin: password })
        )
      }))
      const logout = yield* runCli(["logout"], { env: home })
      assert.strictEqual(logout.code, 4)
      assert.match(
        logout.stderr,
        /^kept corp\\alice at .* in the store: NOT revoked at the server: TransportError: .*; run logout again once that is fixed, or add --force to remove it unrevoked\nerror: TransportError: .*\n$/
      )
      assert.include((yield* runCli(["status"], { env: home })).stdout, "user        corp\\alice", "kept")
      const forced = yield* runCli(["logout", "--force", "--json"], { env: home })
      assert.strictEqual(forced.code, 4)
      assert.deepInclude(JSON.parse(forced.stdout).grants[0], { revoked: false, revocation: "failed", removed: true })
      assert.match(
        forced.stderr,
        /^removed corp\\alice at .* from the store \(--force\), but NOT revoked at the server: TransportError: /
      )
      assert.include((yield* runCli(["status"], { env: home })).stdout, "no grants stored")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("usage errors and help", () => {
  it.live("each usage error is one line naming the flag or variable, exit 1", () =>
    Effect.gen(function*() {
      const expect = function*(args: ReadonlyArray<string>, line: string) {
        const run = yield* runCli(args, {
          env: { VEDAUTH_URL: "http://127.0.0.1:9", VEDAUTH_CLIENT_ID: "c", VEDAUTH_SCOPE: "s" }
        })
        assert.strictEqual(run.code, 1, args.join(" "))
        assert.strictEqual(run.stderr, `error: UsageError: ${line}\n`)
        assert.strictEqual(run.stdout, "")
      }
      yield* expect(
        ["login", "--usernme", "x"],
        "unknown option --usernme for vedauth login; did you mean '--username'? (see vedauth help login)"
      )
      yield* expect(["frobnicate"], "unknown command 'frobnicate' (see vedauth help)")
      // A typo gets the word it is nearest: a command, an option of that command, a grant.
      yield* expect(["lgoin"], "unknown command 'lgoin'; did you mean 'login'? (see vedauth help)")
      yield* expect(
        ["login", "--clientid", "x"],
        "unknown option --clientid for vedauth login; did you mean '--client-id'? (see vedauth help login)"
      )
      yield* expect(
        ["login", "--grant", "pasword"],
        "'pasword' is not a grant; did you mean 'password'?: use integrated, password, certificate, jwt or device (--grant)"
      )
      yield* expect(
        ["login", "--mechanism", "kerberso"],
        "'kerberso' is not a mechanism: negotiate, kerberos or ntlm; did you mean 'kerberos'? (--mechanism)"
      )
      yield* expect(
        ["login", "--password", "X"],
        "the password is never taken from a flag (it would show in ps and shell history): pipe it to --password-stdin, set VEDAUTH_PASSWORD, or answer the prompt on a terminal (--password)"
      )
      yield* expect(["token", "--url", "tpp.example.com"], "'tpp.example.com' is not an http(s) URL (--url)")
      yield* expect(
        ["verify", "--ca-file", "/nonexistent/ca.pem"],
        "cannot read the CA file '/nonexistent/ca.pem' (--ca-file)"
      )
      yield* expect(
        ["login"],
        "login needs a Windows user, DOMAIN\\user or user@domain (--username or VEDAUTH_USERNAME)"
      )
      yield* expect(["token", "--url"], "--url needs a value (--url)")
      yield* expect(
        ["simulate", "--cert-out", "ca.pem"],
        "--cert-out writes the CA of the HTTPS simulator: add --tls (--cert-out)"
      )
      yield* expect(["simulate", "--port", "http"], "'http' is not a port number, 0 to 65535 (--port)")
      const scopeFromEnv = yield* runCli(["token"], {
        env: { VEDAUTH_URL: "ftp://x", VEDAUTH_CLIENT_ID: "c", VEDAUTH_SCOPE: "s" }
      })
      assert.strictEqual(scopeFromEnv.stderr, "error: UsageError: 'ftp://x' is not an http(s) URL (VEDAUTH_URL)\n")
    }))

  it.live("help: plain text, the program name in usage lines, optional parts in brackets, no framework options", () =>
    Effect.gen(function*() {
      const runs = yield* Effect.all([
        runCli(["help"]),
        runCli(["--help"]),
        runCli([]),
        runCli(["help", "login"]),
        runCli(["login", "--help"]),
        runCli(["token", "-h"])
      ])
      for (const run of runs) {
        ok(run)
        assert.notMatch(run.stdout, /\x1b/, "no escape codes")
        for (const builtIn of ["--wizard", "--completions", "--log-level"]) assert.notInclude(run.stdout, builtIn)
      }
      assert.strictEqual(runs[0]!.stdout, runs[1]!.stdout)
      assert.include(runs[0]!.stdout, "usage: vedauth <command> [options]")
      assert.strictEqual(runs[3]!.stdout, runs[4]!.stdout)
      assert.include(
        runs[3]!.stdout,
        "usage: vedauth login --url URL --client-id ID --scope SCOPE [--username USER] [--ca-file PEM]"
      )
      assert.include(runs[5]!.stdout, "usage: vedauth token --url URL --client-id ID --scope SCOPE [--username USER]")
      assert.include(runs[3]!.stdout, "waits for a person to approve.\nWith a keytab")
      // The package ships no docs/ folder: the help points at the guide installed beside the executable.
      const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"))
      assert.include(manifest.files, "dist/cli.md")
      for (const run of runs) {
        assert.notMatch(run.stdout, /(^|[\s(])docs\//m, "no path into a folder the package does not ship")
      }
      const guide = /More: (\S+cli\.md)\n/.exec(runs[0]!.stdout)?.[1]
      assert.isDefined(guide)
      assert.include(readFileSync(guide!, "utf8"), "# ", "the guide the help names is there")
    }))
})

describe("plain http and --version", () => {
  it.scopedLive("plain http:// to a host that is not loopback is refused before any request; --version prints the package's", () =>
    Effect.gen(function*() {
      const { home } = yield* setup()
      // Nothing is sent: the layer refuses the URL before it resolves the name (.invalid never resolves).
      const refused = yield* runCli([
        "login",
        "--url",
        "http://tpp.invalid",
        "--client-id",
        "c",
        "--scope",
        "s",
        "--username",
        "CORP\\alice",
        "--password-stdin"
      ], {
        env: home,
        stdin: password
      })
      assert.notStrictEqual(refused.code, 0)
      assert.match(refused.stderr, /^error: \w+: .*http:\/\/.*\n$/)
      assert.include(refused.stderr, "VEDAUTH_ALLOW_HTTP=1")
      const version = yield* runCli(["--version"])
      ok(version)
      const manifest = JSON.parse(
        yield* (yield* FileSystem.FileSystem).readFileString(new URL("../package.json", import.meta.url).pathname)
      )
      assert.strictEqual(version.stdout, `${manifest.version}\n`)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("token --json", () => {
  it.scopedLive("prints {access_token, expires}, from the store (lean path) and after a refresh alike", () =>
    Effect.gen(function*() {
      const { home, server } = yield* setup()
      ok(
        yield* runCli(["login", ...server, "--username", "CORP\\alice", "--password-stdin"], {
          env: home,
          stdin: password
        })
      )
      const plain = (yield* runCli(["token"], { env: home })).stdout.trim()
      const json = JSON.parse((yield* runCli(["token", "--json"], { env: home })).stdout)
      assert.deepStrictEqual(Object.keys(json), ["access_token", "expires"])
      assert.strictEqual(json.access_token, plain)
      assert.approximately(json.expires, Date.now() / 1000 + 3600, 120)
      // --password-stdin takes the full path: the same answer.
      const full = JSON.parse(
        (yield* runCli(["token", "--json", "--password-stdin"], { env: home, stdin: password })).stdout
      )
      assert.deepStrictEqual(full, json)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

// Runs `vedauth simulate args` until its first line of stdout and its banner on stderr, then stops it.
const simulate = (args: ReadonlyArray<string>, cwd: string) =>
  collect(process.execPath, [bin, "simulate", ...args], {
    cwd,
    env: { PATH: process.env["PATH"] ?? "", HOME: cwd },
    watch: (output, child) => {
      if (output.stdout.includes("\n") && output.stderr.includes("allowed scope")) child.kill("SIGINT")
    }
  }).pipe(Effect.map((output) => ({ url: output.stdout.split("\n")[0] ?? "", stderr: output.stderr })))

describe("simulate", () => {
  it.scopedLive("prints its URL, then its demo credentials on stderr; --cert-out writes a new file, never through a symlink", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-sim-" })
      const run = yield* simulate(["--tls", "--cert-out", "ca.pem"], dir)
      assert.match(run.url, /^https:\/\/127\.0\.0\.1:\d+$/)
      assert.include(run.stderr, `user CORP\\alice, password ${password}, client id vedauth-demo`)
      assert.match(yield* fs.readFileString(`${dir}/ca.pem`), /^-----BEGIN CERTIFICATE-----/)

      yield* fs.writeFileString(`${dir}/victim`, "keep me")
      yield* fs.symlink(`${dir}/victim`, `${dir}/planted.pem`)
      const refused = yield* runCli(["simulate", "--tls", "--cert-out", `${dir}/planted.pem`])
      assert.strictEqual(refused.code, 1)
      assert.match(
        refused.stderr,
        /^error: UsageError: cannot write the CA certificate: .*planted\.pem is a symbolic link; refusing to write through it \(--cert-out\)\n$/
      )
      assert.strictEqual(yield* fs.readFileString(`${dir}/victim`), "keep me")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("what the server says reaches the terminal escaped", () => {
  it.scopedLive("an identity and an error description with ESC, OSC, BEL, CR and C1 characters", () =>
    Effect.gen(function*() {
      const hostile = "evil\u001b]0;pwned\u0007\u001b[2J\r\u009b31m\u0085x"
      const { home, server } = yield* setup({
        users: [
          { name: "alice", password: Simulator.defaultCredentials.password, identity: `AD+corp:${hostile}` },
          { name: "mallory", password: Simulator.defaultCredentials.password, grantFailure: "no\u009b31mred\u0085line" }
        ]
      })
      const login = yield* runCli(["login", ...server, "--username", "CORP\\alice", "--password-stdin"], {
        env: home,
        stdin: password
      })
      const json = yield* runCli(["login", ...server, "--username", "CORP\\alice", "--password-stdin", "--json"], {
        env: home,
        stdin: password
      })
      const status = yield* runCli(["status"], { env: home })
      const statusJson = yield* runCli(["status", "--json"], { env: home })
      const refused = yield* runCli(["login", ...server, "--username", "CORP\\mallory", "--password-stdin"], {
        env: home,
        stdin: password
      })
      assert.strictEqual(refused.code, 2)
      assert.include(login.stdout, "identity    AD+corp:evil\\x1b]0;pwned\\x07\\x1b[2J\\x0d\\x9b31m\\x85x\n")
      assert.strictEqual(JSON.parse(json.stdout).identity, `AD+corp:${hostile}`, "JSON keeps the value, escaped")
      assert.strictEqual(JSON.parse(statusJson.stdout).grants[0].identity, `AD+corp:${hostile}`)
      assert.include(refused.stderr, "no\\x9b31mred\\x85line")
      for (const run of [login, json, status, statusJson, refused]) {
        assert.notMatch(run.stdout + run.stderr, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, run.argv.join(" "))
      }
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("stdout carries only the result", () => {
  it.scopedLive("log lines (the refresh token was refused; authorizing again) go to stderr, not into $(vedauth token)", () =>
    Effect.gen(function*() {
      // Tokens shorter-lived than the smallest refresh window: every `token` refreshes.
      const { dir, fs, home, server } = yield* setup({
        integrations: [{ clientId: Simulator.defaultClientId, tokenLifetime: "20 seconds" }]
      })
      const env = { ...home, VEDAUTH_PASSWORD: password }
      ok(yield* runCli(["login", ...server, "--username", "CORP\\alice"], { env }))
      const store = `${dir}/.local/state/vedauth/tokens.json`
      const spent = yield* fs.readFileString(store)
      ok(yield* runCli(["refresh"], { env }))
      // Put back the grant whose refresh token the refresh just spent.
      yield* fs.writeFileString(store, spent)
      const token = yield* runCli(["token"], { env })
      ok(token)
      assert.match(token.stdout, /^[A-Za-z0-9+/]+=*\n$/)
      assert.include(token.stderr, "the refresh token was refused", token.stderr)
      assert.include(token.stderr, "authorizing again", token.stderr)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("files the CLI writes", () => {
  it.scopedLive("a profiles file planted as a symlink is refused, and its target left alone", () =>
    Effect.gen(function*() {
      const { dir, fs, home, server } = yield* setup()
      yield* fs.makeDirectory(`${dir}/.local/state/vedauth`, { recursive: true })
      yield* fs.writeFileString(`${dir}/elsewhere`, "not yours to write")
      yield* fs.symlink(`${dir}/elsewhere`, `${dir}/.local/state/vedauth/profiles.json`)
      const login = yield* runCli(["login", ...server, "--username", "CORP\\alice", "--password-stdin"], {
        env: home,
        stdin: password
      })
      assert.strictEqual(login.code, 6)
      assert.strictEqual(yield* fs.readFileString(`${dir}/elsewhere`), "not yours to write")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
