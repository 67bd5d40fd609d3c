/**
 * `vedauth run -- COMMAND`: the token, the server and the CA handed to a command in the variables
 * vcert and VenafiPS read, never in its arguments; vedauth's own secrets kept from it; its stdin,
 * exit code and signals passed through. Run as a user runs it: the built bundle, as a process.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { childEnvironment } from "../src/internal/runCommand.js"
import { bin, collect, type Run, runCli } from "./support/runCli.js"

const password = Redacted.value(Simulator.defaultCredentials.password)
const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)

// A child that prints what it was given: its environment, its arguments and its standard input.
const printEnvironment =
  "process.stdout.write(JSON.stringify({ env: process.env, argv: process.argv, input: require('fs').readFileSync(0, 'utf8') }))"

// A simulator over HTTPS, its CA in ca.pem, a HOME of the test's own, and alice logged in.
const loggedIn = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-run-" })
  const caFile = `${dir}/ca.pem`
  const served = yield* Simulator.serve({ protocol: "https", caPemPath: caFile })
  yield* fs.makeDirectory(`${dir}/home`)
  const home = { HOME: `${dir}/home` }
  const login = yield* runCli(
    [
      "login",
      "--url",
      served.url,
      "--client-id",
      Simulator.defaultClientId,
      "--scope",
      "certificate:manage",
      "--username",
      "CORP\\alice",
      "--password-stdin",
      "--ca-file",
      caFile
    ],
    { env: home, stdin: password }
  )
  ok(login)
  return { caFile, home, served }
})

describe("the command's environment", () => {
  const handed = { accessToken: "the-token", url: "https://tpp.example.com", caFile: undefined }

  it("a store or proxy URL goes only without a password; the user's own trust bundle stays when no CA is used", () => {
    const withPasswords = childEnvironment({
      VEDAUTH_TOKEN_STORE: "rediss://vedauth:store-secret@127.0.0.1:6380/0",
      VEDAUTH_PROXY: "proxyuser:proxy-secret@127.0.0.1:3128",
      VCERT_TRUST_BUNDLE: "/etc/ssl/own.pem",
      VCERT_TOKEN: "an old one",
      UNSET: undefined
    }, handed)
    assert.deepStrictEqual(withPasswords, {
      VCERT_TRUST_BUNDLE: "/etc/ssl/own.pem",
      VEDAUTH_ACCESS_TOKEN: "the-token",
      VCERT_TOKEN: "the-token",
      VDC_TOKEN: "the-token",
      VCERT_URL: "https://tpp.example.com",
      VDC_SERVER: "https://tpp.example.com"
    })
    const plain = childEnvironment(
      { VEDAUTH_TOKEN_STORE: "/srv/tokens.json", VEDAUTH_PROXY: "http://127.0.0.1:3128" },
      { ...handed, caFile: "ca.pem" }
    )
    assert.deepInclude(plain, {
      VEDAUTH_TOKEN_STORE: "/srv/tokens.json",
      VEDAUTH_PROXY: "http://127.0.0.1:3128",
      VCERT_TRUST_BUNDLE: "ca.pem"
    })
  })
})

describe("vedauth run", () => {
  it.scopedLive("hands the token, server and CA to the command in its environment, without vedauth's secrets", () =>
    Effect.gen(function*() {
      const { caFile, home, served } = yield* loggedIn
      const env = {
        ...home,
        VEDAUTH_PASSWORD: password,
        VEDAUTH_STORE_KEY: "store-secret",
        // Carries a password: removed; VEDAUTH_NO_PROXY keeps vedauth itself off it.
        VEDAUTH_PROXY: "http://proxyuser:proxy-secret@127.0.0.1:9",
        VEDAUTH_NO_PROXY: "*",
        HTTPS_PROXY: "http://127.0.0.1:9",
        KEPT: "yes"
      }
      const run = yield* runCli(["run", "--", process.execPath, "-e", printEnvironment], { env, stdin: "piped in\n" })
      ok(run)
      const child = JSON.parse(run.stdout) as { env: Record<string, string>; argv: Array<string>; input: string }
      const token = (yield* runCli(["token"], { env: home })).stdout.trim()
      assert.isAbove(token.length, 10)
      for (const name of ["VEDAUTH_ACCESS_TOKEN", "VCERT_TOKEN", "VDC_TOKEN"]) {
        assert.strictEqual(child.env[name], token, name)
      }
      assert.strictEqual(child.env["VCERT_URL"], served.url)
      assert.strictEqual(child.env["VDC_SERVER"], served.url)
      assert.strictEqual(child.env["VCERT_TRUST_BUNDLE"], caFile)
      for (const name of ["VEDAUTH_PASSWORD", "VEDAUTH_STORE_KEY", "VEDAUTH_PROXY"]) assert.notProperty(child.env, name)
      assert.notInclude(JSON.stringify(child.env), password)
      assert.notInclude(JSON.stringify(child.env), "secret")
      // The general proxy is every program's, the command's too; a harmless variable stays.
      assert.strictEqual(child.env["HTTPS_PROXY"], "http://127.0.0.1:9")
      assert.strictEqual(child.env["KEPT"], "yes")
      assert.strictEqual(child.input, "piped in\n")
      assert.notInclude(child.argv.join(" "), token)
      assert.notInclude(run.argv.join(" "), token)
      assert.strictEqual(run.stderr, "")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("exits with the command's code, 128 + N when signal N ended it, and says nothing of its own", () =>
    Effect.gen(function*() {
      const { home } = yield* loggedIn
      const seven = yield* runCli([
        "run",
        "--",
        process.execPath,
        "-e",
        "process.stderr.write('own words\\n'); process.exit(7)"
      ], { env: home })
      assert.strictEqual(seven.code, 7)
      assert.strictEqual(seven.stderr, "own words\n")
      const killed = yield* runCli(["run", "--", process.execPath, "-e", "process.kill(process.pid, 'SIGTERM')"], {
        env: home
      })
      assert.strictEqual(killed.code, 143, killed.stderr)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("passes SIGINT, SIGTERM and SIGHUP on to the command and waits for it to decide", () =>
    Effect.gen(function*() {
      const { home } = yield* loggedIn
      for (const [signal, code] of [["SIGINT", 41], ["SIGTERM", 42], ["SIGHUP", 43]] as const) {
        const script =
          `process.on('${signal}', () => process.exit(${code})); process.stdout.write('ready'); setInterval(() => {}, 1000)`
        let sent = false
        const run = yield* collect(process.execPath, [bin, "run", "--", process.execPath, "-e", script], {
          env: { PATH: process.env["PATH"] ?? "", ...home },
          watch: (output, child) => {
            if (!sent && output.stdout === "ready") {
              sent = true
              child.kill(signal)
            }
          }
        })
        assert.strictEqual(run.code, code, `${signal}: ${run.stderr}`)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("a missing command is a usage error (exit 1), one that cannot start exits 127", () =>
    Effect.gen(function*() {
      for (
        const args of [["run"], ["run", "--"], ["run", "--url", "https://127.0.0.1:1", "--"], [
          "run",
          "vcert",
          "getcred"
        ]]
      ) {
        const run = yield* runCli(args)
        assert.strictEqual(run.code, 1, args.join(" "))
        assert.match(run.stderr, /^error: UsageError: vedauth run needs the command after --: .*\n$/)
      }
      const { home } = yield* loggedIn
      const missing = yield* runCli(["run", "--", "vcert-not-installed-here", "getcred"], { env: home })
      assert.strictEqual(missing.code, 127)
      assert.strictEqual(
        missing.stderr,
        "error: CommandNotStarted: cannot run 'vcert-not-installed-here': command not found (ENOENT)\n"
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("options end at --: the command's own flags are never read as vedauth's", () =>
    Effect.gen(function*() {
      const { home } = yield* loggedIn
      const run = yield* runCli([
        "run",
        "--",
        process.execPath,
        "-e",
        printEnvironment,
        "--",
        "--help",
        "--password",
        "x"
      ], { env: home })
      ok(run)
      // (node takes the second `--` as the end of its own options.)
      assert.deepStrictEqual(JSON.parse(run.stdout).argv.slice(1), ["--help", "--password", "x"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
