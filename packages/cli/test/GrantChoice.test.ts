/**
 * Choosing the grant: the password grant as a process, grants of different kinds side by side in
 * one store (each command finds its own by the profile or --grant), and the lean `token` path
 * reading each grant's store key from core's own file.
 */
import { FileSystem } from "@effect/platform"
import { NodeContext, NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Grant, TokenStore } from "@vedauth/core"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { Simulator } from "@vedauth/testing"
import { DateTime, Effect, Layer, Redacted } from "effect"
import { cachedTokenOutput } from "../src/internal/cachedToken.js"
import { alwaysDue, assertNoSecrets, claims, fails, ok, setupGrants, spendRefreshToken } from "./support/grants.js"
import { runCli } from "./support/runCli.js"

const password = Redacted.value(Simulator.defaultCredentials.password)

describe("vedauth --grant password", () => {
  it.scopedLive("login with --password-stdin, then renewal through authorize/oauth with the password from the environment", () =>
    Effect.gen(function*() {
      const { env, served, server } = yield* setupGrants({
        integrations: [alwaysDue, { clientId: "no-oauth", grantTypes: ["integrated"] }]
      })
      const as = ["--grant", "password", "--username", "CORP\\alice"]
      const login = yield* runCli(["login", ...server("short"), ...as, "--password-stdin"], {
        env,
        stdin: `${password}\n`
      })
      ok(login)
      yield* spendRefreshToken(env)
      const renewed = yield* runCli(["token"], { env: { ...env, VEDAUTH_PASSWORD: password } })
      ok(renewed)
      const stats = yield* served.simulator.stats
      assert.strictEqual(stats.authorizeOauth, 2, "login and the renewal both went to authorize/oauth")
      assert.strictEqual(stats.authorizeIntegrated, 0)

      const wrong = yield* runCli(["login", ...server("short"), ...as, "--password-stdin"], {
        env,
        stdin: "not-the-password"
      })
      fails(wrong, 2, /^error: InvalidGrant: /)
      const none = yield* runCli(["login", ...server("short"), ...as], { env })
      fails(none, 3, /^error: AuthenticationFailed: no password/)
      const disabled = yield* runCli(["login", ...server("no-oauth"), ...as, "--password-stdin"], {
        env,
        stdin: password
      })
      fails(disabled, 2, /^error: InvalidClient: /)
      const noUser = yield* runCli([
        "login",
        ...server("no-oauth"),
        "--grant",
        "password",
        "--password-stdin",
        "--profile",
        "fresh"
      ], { env, stdin: password })
      fails(noUser, 1, /^error: UsageError: login needs a Windows user/)
      assert.strictEqual((yield* served.simulator.stats).authorizeOauth, 4, "no request without a password or a user")
      assertNoSecrets([login, renewed, wrong, none, disabled, noUser], [password, "not-the-password"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("grants side by side", () => {
  it.scopedLive("integrated and JWT grants for one server, client and scope: each command finds its own", () =>
    Effect.gen(function*() {
      const { dir, env, fs, kit, served, server } = yield* setupGrants()
      yield* fs.writeFileString(`${dir}/token.jwt`, kit.jwt(claims("CORP\\bob")))
      ok(
        yield* runCli(["login", ...server(), "--username", "CORP\\alice", "--password-stdin", "--profile", "windows"], {
          env,
          stdin: password
        })
      )
      ok(
        yield* runCli(
          ["login", ...server(), "--grant", "jwt", "--jwt-file", `${dir}/token.jwt`, "--profile", "robot"],
          { env }
        )
      )
      const identity = (...args: ReadonlyArray<string>) =>
        Effect.map(runCli(["verify", "--json", ...args], { env }), (run) => JSON.parse(run.stdout).identity as string)
      const [windows, robot] = [yield* identity("--profile", "windows"), yield* identity()]
      assert.notStrictEqual(windows, robot)
      assert.strictEqual(
        yield* identity("--grant", "jwt", "--jwt-file", `${dir}/token.jwt`, "--profile", "windows"),
        robot,
        "--grant wins over the profile"
      )
      // The robot profile names no user: the one Windows grant is the obvious one, the JWT grant is no user.
      assert.strictEqual(yield* identity("--grant", "integrated"), windows)
      const status = JSON.parse((yield* runCli(["status", "--json"], { env })).stdout)
      const byUser = Object.fromEntries(
        status.grants.map((grant: { user: string; profiles: Array<string> }) => [grant.user, grant.profiles])
      )
      assert.deepStrictEqual(byUser, { "corp\\alice": ["windows"], "jwt:": ["robot"] })
      const logout = yield* runCli(["logout", "--grant", "jwt"], { env })
      ok(logout)
      assert.match(logout.stderr, /^logged out the jwt grant at /)
      assert.strictEqual(yield* identity("--profile", "windows"), windows, "the Windows grant stays")
      assert.strictEqual((yield* served.simulator.stats).authorizeJwt, 1)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

const now = Date.UTC(2026, 10, 30, 12)
// A grant as core keeps it from a server's answer received at `now`: an hour left.
const answered = (token: string) =>
  Effect.map(
    Grant.decodeWire({
      access_token: token,
      refresh_token: "refresh==",
      expires_in: 3600,
      token_type: "Bearer",
      scope: "certificate:manage",
      identity: "AD+corp:{x}"
    }),
    (wire) => Grant.fromResponse(wire, DateTime.unsafeMake(now))
  )

describe("the lean token path and the grants' store keys", () => {
  it.scoped("answers for each grant from core's file, and hands over when the grant is not usable as given", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-lean-grants-" })
      const path = `${dir}/tokens.json`
      const store = yield* Effect.provide(
        TokenStore.TokenStore,
        TokenStore.layerFileSystem({ path }).pipe(Layer.provide(NodeTokenStoreFiles.layer))
      )
      const key = { server: "https://tpp.example.test", clientId: "app", scope: "certificate:manage" }
      for (const user of ["CORP\\alice", "certificate:", "jwt:", "device:"]) {
        yield* store.set({ ...key, user }, yield* answered(`${user.replace(/\W/g, "")}==`))
      }
      yield* fs.writeFileString(`${dir}/token.jwt`, "a.b.c")
      yield* fs.writeFileString(`${dir}/client.pem`, "cert")
      yield* fs.writeFileString(`${dir}/client.key`, "key")
      const lean = (...args: ReadonlyArray<string>) =>
        cachedTokenOutput(
          [
            "token",
            "--url",
            "https://tpp.example.test",
            "--client-id",
            "app",
            "--scope",
            "certificate:manage",
            "--store",
            path,
            ...args
          ],
          {},
          now
        )
      assert.strictEqual(lean("--username", "corp\\alice"), "CORPalice==\n")
      assert.strictEqual(lean(), "CORPalice==\n", "the one Windows grant: the others are no users")
      assert.strictEqual(lean("--grant", "device"), "device==\n")
      assert.strictEqual(lean("--grant", "jwt", "--jwt-file", `${dir}/token.jwt`), "jwt==\n")
      assert.strictEqual(
        cachedTokenOutput(
          [
            "token",
            "--url",
            "https://tpp.example.test",
            "--client-id",
            "app",
            "--scope",
            "certificate:manage",
            "--store",
            path
          ],
          { VEDAUTH_GRANT: "jwt", VEDAUTH_JWT_FILE: `${dir}/token.jwt` },
          now
        ),
        "jwt==\n"
      )
      assert.strictEqual(
        lean("--grant", "certificate", "--client-cert", `${dir}/client.pem`, "--client-key", `${dir}/client.key`),
        "certificate==\n"
      )
      // What the full command line must explain instead.
      assert.isUndefined(lean("--grant", "jwt"), "no JWT file")
      assert.isUndefined(lean("--grant", "jwt", "--jwt-file", `${dir}/missing.jwt`), "a JWT file that is not there")
      assert.isUndefined(lean("--grant", "certificate", "--client-cert", `${dir}/client.pem`), "no key")
      assert.isUndefined(lean("--grant", "kerberos"), "not a grant")
      assert.isUndefined(lean("--jwt-file", `${dir}/token.jwt`), "a JWT file for the integrated grant")
    }).pipe(Effect.provide(NodeContext.layer)))
})
