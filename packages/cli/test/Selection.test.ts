/**
 * Which grant and which credentials a command uses when the command line says little, as a
 * newcomer meets it: `login` without --profile never uses a secret source it was not given;
 * `token` with nothing stored is `NotLoggedIn`; one stored grant needs no selectors.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { simulateKerberos } from "./support/kerberosCli.js"
import { type Run, runCli } from "./support/runCli.js"

const password = Redacted.value(Simulator.defaultCredentials.password)
const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)
const integration = ["--client-id", Simulator.defaultClientId, "--scope", "certificate:manage"]

const fails = (run: Run, code: number, line: RegExp) => {
  assert.strictEqual(run.code, code, run.stderr)
  assert.match(run.stderr, line)
}

describe("login without --profile uses only the secret sources its call names", () => {
  it.scopedLive("after a keytab login, a password login with a wrong password fails: the password is used, the keytab is not", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-rule-" })
      const sim = yield* simulateKerberos(["--keytab-out", "alice.keytab"], dir)
      const env = { HOME: dir, KRB5_CONFIG: sim.krb5Conf }
      const url = ["--url", sim.url.replace("127.0.0.1", "localhost"), ...integration]
      const profiles = () =>
        Effect.map(fs.readFileString(`${dir}/.local/state/vedauth/profiles.json`), (text) => JSON.parse(text))
      ok(yield* runCli(["login", "--profile", "ip", ...url, "--keytab", sim.keytab], { env }))
      assert.strictEqual((yield* profiles()).profiles.ip.keytab, sim.keytab)

      const wrong = yield* runCli(["login", "--username", "alice@CORP.EXAMPLE", "--password-stdin"], {
        env,
        stdin: "not-the-password"
      })
      fails(
        wrong,
        3,
        /^note: not using the keytab saved in profile 'ip': a login without --profile uses only what its command line and environment name \(name it again, or add --profile ip to log in as saved\)\nerror: AuthenticationFailed: /
      )
      assert.strictEqual((yield* profiles()).profiles.ip.keytab, sim.keytab, "a failed login saves nothing")

      // Named, the profile is used as saved, keytab and all: no password, no terminal.
      ok(yield* runCli(["login", "--profile", "ip"], { env }))
      const right = yield* runCli(["login", "--username", "alice@CORP.EXAMPLE", "--password-stdin"], {
        env,
        stdin: password
      })
      ok(right)
      const saved = (yield* profiles()).profiles.ip
      assert.strictEqual(saved.keytab, undefined, "the profile now says how this login was made")
      assert.strictEqual(saved.username, "alice@corp.example", "as stored")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

// A simulator and a HOME of the test's own.
const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-sel-" })
  const served = yield* Simulator.serve({ protocol: "http" })
  const env = { HOME: dir }
  const login = (scope = "certificate:manage") =>
    runCli([
      "login",
      "--url",
      served.url,
      "--client-id",
      Simulator.defaultClientId,
      "--scope",
      scope,
      "--username",
      "CORP\\alice",
      "--password-stdin"
    ], {
      env,
      stdin: password
    })
  return { dir, fs, served, env, login, profilesFile: `${dir}/.local/state/vedauth/profiles.json` }
})

describe("token with nothing stored", () => {
  it.scopedLive("NotLoggedIn, exit 2, in a fresh HOME and after logout; a password given to the call still starts a grant", () =>
    Effect.gen(function*() {
      const { env, login, served } = yield* setup
      for (const command of ["token", "verify", "refresh", "revoke", "logout"]) {
        fails(
          yield* runCli([command], { env }),
          2,
          /^error: NotLoggedIn: no grant is stored: run `vedauth login` first\n$/
        )
      }
      ok(yield* login())
      ok(yield* runCli(["logout"], { env }))
      const after = yield* runCli(["token"], { env })
      fails(
        after,
        2,
        /^error: NotLoggedIn: no grant stored for this server, client, scope and user: run `vedauth login` first \(or give the password to this call: --password-stdin or VEDAUTH_PASSWORD\)\n$/
      )
      assert.strictEqual(after.stdout, "")
      assert.deepStrictEqual(yield* served.simulator.grants, [], "nothing was authorized")
      const given = yield* runCli(["token"], { env: { ...env, VEDAUTH_PASSWORD: password } })
      ok(given)
      assert.match(given.stdout, /^\S+\n$/)
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("one stored grant needs no selectors", () => {
  it.scopedLive("with no profile (another machine on the same store): token, verify, status and logout; two grants ask which", () =>
    Effect.gen(function*() {
      const { env, fs, login, profilesFile, served } = yield* setup
      ok(yield* login())
      const token = (yield* runCli(["token"], { env })).stdout
      yield* fs.remove(profilesFile)
      const again = yield* runCli(["token"], { env })
      ok(again)
      assert.strictEqual(again.stdout, token)
      ok(yield* runCli(["verify"], { env }))
      ok(yield* runCli(["status"], { env }))

      ok(yield* login("configuration:manage"))
      yield* fs.remove(profilesFile)
      fails(
        yield* runCli(["token"], { env }),
        1,
        /^error: UsageError: 2 stored grants fit what is given: pick one, `vedauth status` lists them \(--url, --client-id or --scope\)\n$/
      )
      const picked = yield* runCli(["token", "--scope", "certificate:manage"], { env })
      assert.strictEqual(picked.stdout, token)
      ok(yield* runCli(["logout", "--scope", "configuration:manage"], { env }))
      const logout = yield* runCli(["logout"], { env })
      ok(logout)
      assert.match(
        logout.stderr,
        /^logged out corp\\alice at .*\(vedauth-demo, certificate:manage\): revoked, removed from the store\n$/
      )
      assert.deepStrictEqual(yield* served.simulator.grants, [])
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
