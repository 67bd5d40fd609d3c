/**
 * `--store redis://...` / `VEDAUTH_TOKEN_STORE`: the bundled CLI as processes, each "machine" a HOME
 * of its own, sharing grants through a real redis-server on loopback, against the simulator.
 */
import { FileSystem } from "@effect/platform"
import { NodeContext, NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Grant, TokenStore, TokenStoreFormat } from "@vedauth/core"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import { randomBytes } from "node:crypto"
import { existsSync } from "node:fs"
import { resolve } from "node:path"
import { cachedTokenOutput } from "../src/internal/cachedToken.js"
import { shownStoreUrl } from "../src/internal/sharedStoreAddress.js"
import { type Run, runCli } from "./support/runCli.js"
import { ok, password, redisUser, selectors, sharedSetup } from "./support/sharedStore.js"

const noSecret = (run: Run, ...secrets: ReadonlyArray<string>) => {
  for (const secret of [redisUser.password, password, ...secrets]) {
    assert.notInclude(run.stdout + run.stderr, secret, `a secret in the output of ${run.argv.slice(1).join(" ")}`)
  }
}

// What the store holds in Redis, read with redis-cli as the admin.
const records = (cli: (...args: Array<string>) => string) =>
  cli("--scan", "--pattern", "vedauth:grant:*").split("\n").filter((line) => line !== "").map((key) =>
    cli("HGET", key, "g")
  )

describe("issue #21 R4: a Redis password on the command line", () => {
  it.live("--store redis://user:PASSWORD@host is refused before any connection (exit 1), pointing at VEDAUTH_TOKEN_STORE; the variable keeps working", () =>
    Effect.gen(function*() {
      const secret = `Pw-${randomBytes(6).toString("hex")}`
      const url = `redis://vedauth:${secret}@127.0.0.1:1/0`
      for (
        const command of [["status"], ["token"], [
          "login",
          "--url",
          "https://tpp.example.com",
          "--client-id",
          "x",
          "--scope",
          "s"
        ]]
      ) {
        const refused = yield* runCli([...command, "--store", url])
        assert.strictEqual(refused.code, 1, `${command[0]}: ${refused.stderr}`)
        assert.match(
          refused.stderr,
          /^error: UsageError: --store redis:\/\/vedauth:\*\*\*@127\.0\.0\.1:1\/0 carries a password, which every local user can read in ps and \/proc\/PID\/cmdline: give the URL in the environment variable VEDAUTH_TOKEN_STORE instead, which may carry it\n$/
        )
        assert.notInclude(refused.stdout + refused.stderr, secret)
      }
      // The same URL in the variable is taken: it goes on to connect (port 1: nothing listens, exit 6).
      const fromEnv = yield* runCli(["status"], { env: { VEDAUTH_TOKEN_STORE: url } })
      assert.strictEqual(fromEnv.code, 6, fromEnv.stderr)
      assert.notInclude(fromEnv.stdout + fromEnv.stderr, secret)
    }))
})

describe("two machines, one grant through Redis", () => {
  it.scopedLive("login on one, token on the other: the same token, no second authorize, no password needed there, no selectors for one grant", () =>
    Effect.gen(function*() {
      const { fs, home, login, on, served, server, storeUrl } = yield* sharedSetup()
      assert.include(
        storeUrl,
        `:${redisUser.password}@`,
        "the URL every run gets carries the password the outputs are searched for"
      )
      const loggedIn = yield* login("a")
      ok(loggedIn)
      noSecret(loggedIn)
      const first = yield* on("a", ["token"])
      ok(first)
      const before = yield* served.simulator.stats
      assert.strictEqual(before.authorizeIntegrated, 1)
      // Machine b: no profile, no password, no user given: the one grant in Redis is found.
      const other = yield* on("b", ["token", ...selectors(served.url)])
      ok(other)
      assert.strictEqual(other.stdout, first.stdout)
      const json = yield* on("b", ["token", "--json", ...selectors(served.url), "--username", "alice@corp"])
      ok(json)
      assert.strictEqual(JSON.parse(json.stdout).access_token, first.stdout.trim())
      const after = yield* served.simulator.stats
      assert.strictEqual(after.authorizeIntegrated, 1, "no second authorize")
      assert.strictEqual(after.requests, before.requests, "nothing asked of the server at all")
      // The one grant the store holds needs no selectors at all there: token, verify, status.
      const bare = yield* on("b", ["token"])
      ok(bare)
      assert.strictEqual(bare.stdout, first.stdout)
      ok(yield* on("b", ["verify"]))
      ok(yield* on("b", ["status"]))
      for (const run of [first, other, json, bare]) noSecret(run)
      // The grant lives in Redis only: no store file on either machine, nothing named after the URL.
      for (const machine of ["a", "b"]) {
        assert.isFalse(yield* fs.exists(`${yield* home(machine)}/.local/state/vedauth/tokens.json`), machine)
      }
      assert.isFalse(existsSync(resolve("redis:")))
      const stored = records(server.cli)
      assert.strictEqual(stored.length, 1)
      assert.include(stored[0]!, first.stdout.trim(), "plain records without VEDAUTH_STORE_KEY")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("profiles of a store URL live in the local state folder and never name the store", () =>
    Effect.gen(function*() {
      const { fs, home, login, on, storeUrl } = yield* sharedSetup()
      ok(yield* login("a"))
      const state = `${yield* home("a")}/.local/state/vedauth`
      assert.deepStrictEqual((yield* fs.readDirectory(state)).sort(), ["profiles.json"])
      const profiles = yield* fs.readFileString(`${state}/profiles.json`)
      assert.include(profiles, "\"current\": \"default\"")
      assert.notInclude(profiles, "redis")
      assert.notInclude(profiles, redisUser.password)
      // With the store from the variable, later commands need no selectors (the current profile).
      const token = yield* on("a", ["token"])
      ok(token)
      const verify = yield* on("a", ["verify", "--json"])
      ok(verify)
      assert.strictEqual(JSON.parse(verify.stdout).scope, "certificate:manage")
      // XDG_STATE_HOME moves them, as it moves the default store file.
      const xdg = `${yield* home("a")}/xdg`
      ok(yield* login("a", ["--profile", "elsewhere"], { XDG_STATE_HOME: xdg }))
      assert.isTrue(yield* fs.exists(`${xdg}/vedauth/profiles.json`))
      // --store on the command line with the password in it is refused (issue #21 R4); without one
      // it names the same store as the variable (here Redis then refuses the ACL user: exit 6).
      const flagged = yield* on("a", ["status", "--store", storeUrl], { env: { VEDAUTH_TOKEN_STORE: "" } })
      assert.strictEqual(flagged.code, 1)
      noSecret(flagged)
      const unsecret = new URL(storeUrl)
      unsecret.password = ""
      const withoutPassword = yield* on("a", ["status", "--store", unsecret.href], { env: { VEDAUTH_TOKEN_STORE: "" } })
      assert.strictEqual(withoutPassword.code, 6)
      assert.include(withoutPassword.stderr, "TokenStoreError")
      noSecret(withoutPassword)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("status and logout over Redis", () => {
  it.scopedLive("status on another machine lists the grants (password shown as ***); logout there needs no selectors but which grant", () =>
    Effect.gen(function*() {
      const { login, on, served, server } = yield* sharedSetup()
      ok(yield* login("a", ["--scope", "configuration:manage"]))
      ok(yield* login("a"))
      const token = (yield* on("a", ["token"])).stdout.trim()
      const status = yield* on("b", ["status"])
      ok(status)
      noSecret(status, token)
      assert.match(
        status.stdout,
        new RegExp(
          `^token store redis://${redisUser.name}:\\*\\*\\*@127\\.0\\.0\\.1:${server.port}/0; current profile: none\n`
        )
      )
      assert.strictEqual(status.stdout.match(/ server {6}/g)?.length, 2)
      const json = yield* on("b", ["status", "--json"])
      ok(json)
      noSecret(json, token)
      const listed = JSON.parse(json.stdout)
      assert.strictEqual(listed.store, `redis://${redisUser.name}:***@127.0.0.1:${server.port}/0`)
      assert.deepStrictEqual(listed.grants.map((grant: { scope: string }) => grant.scope).sort(), [
        "certificate:manage",
        "configuration:manage"
      ])

      // Two grants: a bare logout on b asks which; the scope alone picks one, then one is left.
      const which = yield* on("b", ["logout"])
      assert.strictEqual(which.code, 1, which.stderr)
      assert.match(which.stderr, /^error: UsageError: 2 stored grants fit what is given: pick one/)
      const one = yield* on("b", ["logout", "--scope", "configuration:manage", "--json"])
      ok(one)
      const logout = yield* on("b", ["logout", "--json"])
      ok(logout)
      noSecret(logout, token)
      assert.deepStrictEqual(
        [...JSON.parse(one.stdout).grants, ...JSON.parse(logout.stdout).grants].map((
          grant: { revoked: boolean; scope: string }
        ) => [grant.scope, grant.revoked]).sort(),
        [["certificate:manage", true], ["configuration:manage", true]]
      )
      assert.strictEqual((yield* served.simulator.grants).length, 0, "revoked at the server")
      assert.deepStrictEqual(records(server.cli), [], "removed from Redis")
      assert.include((yield* on("a", ["status"])).stdout, "no grants stored")
      // Machine a's profile still names the grant: it is gone for a too.
      const gone = yield* on("a", ["verify"])
      assert.strictEqual(gone.code, 2)
      assert.match(gone.stderr, /^error: NotLoggedIn: /)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("an encrypted store (VEDAUTH_STORE_KEY)", () => {
  it.scopedLive("records are sealed in Redis; the same key opens them on another machine; a wrong or missing key is a clear error", () =>
    Effect.gen(function*() {
      const { login, on, served, server } = yield* sharedSetup()
      const key = randomBytes(32).toString("base64")
      ok(yield* login("a", [], { VEDAUTH_STORE_KEY: key }))
      const token = (yield* on("a", ["token"], { env: { VEDAUTH_STORE_KEY: key } })).stdout.trim()
      const [sealed] = records(server.cli)
      assert.isTrue(sealed!.startsWith("enc1:"))
      assert.notInclude(sealed!, token)
      const other = yield* on("b", ["token", ...selectors(served.url)], { env: { VEDAUTH_STORE_KEY: key } })
      ok(other)
      assert.strictEqual(other.stdout.trim(), token)

      const wrongKey = randomBytes(32).toString("base64")
      const wrong = yield* on("b", ["token", ...selectors(served.url)], {
        env: { VEDAUTH_STORE_KEY: wrongKey, VEDAUTH_PASSWORD: password }
      })
      assert.strictEqual(wrong.code, 6)
      assert.strictEqual(wrong.stdout, "", "no garbage, no token")
      assert.match(wrong.stderr, /^error: TokenStoreError: .*does not open with the configured key.*\n$/)
      noSecret(wrong, key, wrongKey, token)
      const none = yield* on("b", ["status"])
      assert.strictEqual(none.code, 6)
      assert.match(none.stderr, /^error: TokenStoreError: .*encrypted and no VEDAUTH_STORE_KEY is configured.*\n$/)
      const short = yield* on("b", ["status"], { env: { VEDAUTH_STORE_KEY: "c2hvcnQ=" } })
      assert.strictEqual(short.code, 6)
      assert.match(short.stderr, /^error: TokenStoreError: the store key must be 32 random bytes in base64/)
      noSecret(short, "c2hvcnQ=")
      // The sealed record was not overwritten by the refusals, and no one authorized again.
      assert.deepStrictEqual(records(server.cli), [sealed])
      assert.strictEqual((yield* served.simulator.stats).authorizeIntegrated, 1)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("rediss:// with an ACL user", () => {
  it.scopedLive("VEDAUTH_STORE_CA trusts the server's CA; without it, or with a wrong password, a typed error (exit 6) without the password", () =>
    Effect.gen(function*() {
      const { fs, home, login, on, root, served, server, storeUrl } = yield* sharedSetup({ tls: true, user: redisUser })
      assert.isTrue(storeUrl.startsWith("rediss://"))
      const caFile = `${root}/redis-ca.pem`
      yield* fs.writeFileString(caFile, server.ca!)
      const trusted = { VEDAUTH_STORE_CA: caFile }
      ok(yield* login("a", [], trusted))
      const token = yield* on("b", ["token", ...selectors(served.url)], { env: trusted })
      ok(token)
      assert.strictEqual((yield* served.simulator.stats).authorizeIntegrated, 1)

      const untrusted = yield* on("b", ["token", ...selectors(served.url)], { env: { VEDAUTH_PASSWORD: password } })
      assert.strictEqual(untrusted.code, 6)
      assert.match(
        untrusted.stderr,
        /^error: TokenStoreError: Redis connect at rediss:\/\/127\.0\.0\.1:\d+\/0 failed: .*certificate.*\n$/
      )
      noSecret(untrusted, token.stdout.trim())
      const badPassword = yield* on("b", ["status"], {
        env: {
          ...trusted,
          VEDAUTH_TOKEN_STORE: storeUrl.replace(encodeURIComponent(redisUser.password), "Not-The-Pw-42")
        }
      })
      assert.strictEqual(badPassword.code, 6)
      assert.match(badPassword.stderr, /^error: TokenStoreError: Redis connect at .* failed: WRONGPASS/)
      noSecret(badPassword, "Not-The-Pw-42")
      const noCa = yield* on("b", ["status"], { env: { VEDAUTH_STORE_CA: `${yield* home("b")}/missing.pem` } })
      assert.strictEqual(noCa.code, 1)
      assert.match(
        noCa.stderr,
        /^error: UsageError: cannot read the store's CA file '.*missing\.pem': it does not exist \(VEDAUTH_STORE_CA\)\n$/
      )
      assert.strictEqual((yield* served.simulator.stats).authorizeIntegrated, 1)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("Redis down, or not a store URL", () => {
  it.scopedLive("every command fails at once with TokenStoreError (exit 6) naming host and port, never the password; nothing is authorized", () =>
    Effect.gen(function*() {
      const { login, on, served, server } = yield* sharedSetup()
      ok(yield* login("a"))
      yield* server.stop
      for (const args of [["token"], ["status"], ["login", "--password-stdin"], ["logout"], ["verify"]]) {
        const run = yield* on("a", args, { stdin: password, env: { VEDAUTH_PASSWORD: password } })
        assert.strictEqual(run.code, 6, `${args.join(" ")}: ${run.stderr}`)
        assert.strictEqual(run.stdout, "")
        assert.match(
          run.stderr,
          new RegExp(
            `^error: TokenStoreError: Redis connect at redis://127\\.0\\.0\\.1:${server.port}/0 failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${server.port}\n$`
          )
        )
        noSecret(run)
      }
      assert.strictEqual((yield* served.simulator.stats).authorizeIntegrated, 1)
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("another URL scheme is a usage error that does not quote the URL", () =>
    Effect.gen(function*() {
      const { on } = yield* sharedSetup()
      const run = yield* on("a", ["status"], {
        env: { VEDAUTH_TOKEN_STORE: `postgres://app:${redisUser.password}@127.0.0.1:1/db` }
      })
      assert.strictEqual(run.code, 1)
      assert.strictEqual(
        run.stderr,
        "error: UsageError: the token store is a postgres:// URL: a store URL is redis:// or rediss://, else give a file (VEDAUTH_TOKEN_STORE)\n"
      )
      noSecret(run)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("the lean token path and a store URL", () => {
  it.scoped("hands a redis:// store to the full command line, even with a fresh token in the default store file", () =>
    Effect.gen(function*() {
      const home = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped({ prefix: "vedauth-cli-lean-url-" })
      const key = {
        server: "https://tpp.example.test",
        clientId: "app",
        scope: "certificate:manage",
        user: "CORP\\alice"
      }
      const store = yield* Effect.provide(
        TokenStore.TokenStore,
        TokenStore.layerFileSystem({ path: `${home}/.local/state/vedauth/tokens.json` }).pipe(
          Layer.provide(NodeTokenStoreFiles.layer)
        )
      )
      const now = Date.now()
      yield* store.set(
        key,
        new Grant.Grant({
          accessToken: Redacted.make("file-token=="),
          refreshToken: Option.none(),
          tokenType: "Bearer",
          scope: key.scope,
          identity: "AD+corp:{x}",
          issuedAt: DateTime.unsafeMake(now),
          expiresAt: DateTime.unsafeMake(now + 3_600_000),
          refreshUntil: Option.none()
        })
      )
      const args = ["token", "--url", key.server, "--client-id", key.clientId, "--scope", key.scope]
      assert.strictEqual(cachedTokenOutput(args, { HOME: home }, now), "file-token==\n", "the file is answered from")
      assert.isUndefined(
        cachedTokenOutput(
          args,
          { HOME: home, VEDAUTH_TOKEN_STORE: `redis://u:${redisUser.password}@127.0.0.1:1/0` },
          now
        )
      )
      assert.isUndefined(cachedTokenOutput([...args, "--store", "rediss://127.0.0.1:1"], { HOME: home }, now))
    }).pipe(Effect.provide(NodeContext.layer)))

  it("a store URL is shown without its password, and text that is no URL not at all", () => {
    assert.strictEqual(shownStoreUrl(`redis://app:${redisUser.password}@cache:6379/2`), "redis://app:***@cache:6379/2")
    assert.strictEqual(shownStoreUrl("rediss://cache:6380"), "rediss://cache:6380")
    assert.strictEqual(shownStoreUrl(`redis://app:${redisUser.password}@[::1`), "redis://(not a valid URL)")
    assert.isUndefined(TokenStoreFormat.storeUrlScheme("C://Users/a/tokens.json"))
    assert.strictEqual(TokenStoreFormat.storeUrlScheme("REDISS://x"), "rediss")
  })
})
