/**
 * The Kerberos command line against the simulator's realm and KDC, with the bundle run as users run
 * it: which mechanism a login used is read from the simulator (one Negotiate request carrying the
 * AP-REQ, against NTLM's two), and every failure ends with its documented exit code and no secret.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import { assertNoSecret, klist } from "./support/kerberosCli.js"
import { type Run, runCli } from "./support/runCli.js"

const password = Redacted.value(Simulator.defaultCredentials.password)
const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)

// A simulator with its realm (CORP.EXAMPLE, SPN HTTP/localhost) and a folder of the test's own for HOME.
const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-krb-" })
  const served = yield* Simulator.serve({ protocol: "http", kerberos: {} })
  const server = ["--url", served.url, "--client-id", Simulator.defaultClientId, "--scope", "certificate:manage"]
  const realm = ["--spn", "HTTP/localhost", "--kdc", served.kdc!, "--realm", "CORP.EXAMPLE"]
  const handshakes = Effect.map(served.simulator.stats, (stats) => stats.roundTripsPerHandshake)
  return { dir, fs, served, server, realm, handshakes, home: { HOME: dir } }
})

// A loopback port nothing listens on.
const closedPort = Effect.async<number>((resume) => {
  const probe = Net.createServer().listen(0, "127.0.0.1", () => {
    const port = (probe.address() as Net.AddressInfo).port
    probe.close(() => resume(Effect.succeed(port)))
  })
})

describe("vedauth login with Kerberos against the simulator's KDC", () => {
  it.scopedLive("a password: tickets from the KDC, one Negotiate request (no NTLM); later commands re-authorize from the profile", () =>
    Effect.gen(function*() {
      const { fs, handshakes, home, realm, server, dir } = yield* setup
      const login = yield* runCli([
        "login",
        ...server,
        ...realm,
        "--username",
        "alice@CORP.EXAMPLE",
        "--password-stdin"
      ], { env: home, stdin: password })
      ok(login)
      assert.deepStrictEqual(yield* handshakes, [1], "one request carried the AP-REQ and was authorized")
      const profile = JSON.parse(yield* fs.readFileString(`${dir}/.local/state/vedauth/profiles.json`)).profiles.default
      assert.deepInclude(profile, { spn: "HTTP/localhost", realm: "CORP.EXAMPLE", username: "alice@CORP.EXAMPLE" })
      // The grant gone, `token` with no selectors authorizes again the same way (with the password from the variable).
      ok(yield* runCli(["revoke"], { env: home }))
      const token = yield* runCli(["token"], { env: { ...home, VEDAUTH_PASSWORD: password } })
      ok(token)
      assert.match(token.stdout, /^\S+\n$/)
      assert.deepStrictEqual(yield* handshakes, [1, 1], "Kerberos again, from the profile's --kdc and --spn")
      assertNoSecret([login], [password, token.stdout.trim()])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("--mechanism ntlm forces NTLM (two requests) though Kerberos is set up; negotiate, the default, uses Kerberos", () =>
    Effect.gen(function*() {
      const { handshakes, home, realm, server } = yield* setup
      ok(
        yield* runCli([
          "login",
          ...server,
          ...realm,
          "--mechanism",
          "ntlm",
          "--username",
          "CORP\\alice",
          "--password-stdin"
        ], { env: home, stdin: password })
      )
      assert.deepStrictEqual(yield* handshakes, [2])
      ok(
        yield* runCli(["login", ...server, ...realm, "--username", "CORP\\alice", "--password-stdin"], {
          env: { ...home, VEDAUTH_MECHANISM: "negotiate" },
          stdin: password
        })
      )
      assert.deepStrictEqual(yield* handshakes, [2, 1], "CORP\\alice with --realm is alice@CORP.EXAMPLE")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("a credential cache: no user and no password; the grant is stored under the cache's principal", () =>
    Effect.gen(function*() {
      const { dir, handshakes, realm, server } = yield* setup
      const cache = `${dir}/alice.ccache`
      // A login with a password fills the cache (as kinit would); MIT's klist reads what we wrote.
      ok(
        yield* runCli([
          "login",
          ...server,
          ...realm,
          "--username",
          "alice@CORP.EXAMPLE",
          "--password-stdin",
          "--store",
          `${dir}/first.json`
        ], {
          env: { HOME: dir, KRB5CCNAME: `FILE:${cache}` },
          stdin: password
        })
      )
      const listed = yield* klist(cache, {})
      assert.include(listed, "Default principal: alice@CORP.EXAMPLE")
      assert.include(listed, "HTTP/localhost@CORP.EXAMPLE")
      // A fresh store, no user, no password and no terminal: the cache alone.
      const store = `${dir}/second.json`
      const login = yield* runCli(["login", ...server, ...realm, "--store", store, "--json"], {
        env: { HOME: dir, KRB5CCNAME: cache }
      })
      ok(login)
      assert.deepStrictEqual(yield* handshakes, [1, 1])
      const status = JSON.parse((yield* runCli(["status", "--store", store, "--json"], { env: { HOME: dir } })).stdout)
      assert.strictEqual(status.grants[0].user, "alice@corp.example")
      assertNoSecret([login], [password])
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("Kerberos failures: exit codes, the protocol's name and hint, no secret", () => {
  it.scopedLive("wrong password or unknown user 3, no KDC answering 4, missing or corrupt AP-REP 5", () =>
    Effect.gen(function*() {
      const { home, realm, served, server } = yield* setup
      const login = (user: string, secret: string, extra: ReadonlyArray<string> = []) =>
        runCli([
          "login",
          ...server,
          ...realm,
          "--mechanism",
          "kerberos",
          "--username",
          user,
          "--password-stdin",
          ...extra
        ], { env: home, stdin: secret })
      const wrong = yield* login("alice@CORP.EXAMPLE", "not-the-password")
      assert.strictEqual(wrong.code, 3, wrong.stderr)
      assert.match(wrong.stderr, /^error: AuthenticationFailed: /)
      const unknown = yield* login("mallory@CORP.EXAMPLE", password)
      assert.strictEqual(unknown.code, 3, unknown.stderr)
      const port = yield* closedPort
      const noKdc = yield* login("alice@CORP.EXAMPLE", password, ["--kdc", `127.0.0.1:${port}`])
      assert.strictEqual(noKdc.code, 4, noKdc.stderr)
      assert.match(noKdc.stderr, /^error: TransportError: .*127\.0\.0\.1/)
      const faults: Array<Run> = []
      for (const fault of ["omit", "corrupt"] as const) {
        yield* served.simulator.setFaults({ kerberosMutualAuth: fault })
        const run = yield* login("alice@CORP.EXAMPLE", password)
        assert.strictEqual(run.code, 5, `${fault}: ${run.stderr}`)
        assert.match(run.stderr, /^error: KerberosError: [A-Z_]+: /, fault)
        faults.push(run)
      }
      assert.match(faults[0]!.stderr, /KRB_AP_ERR_MUT_FAIL/)
      assertNoSecret([wrong, unknown, noKdc, ...faults], [password, "not-the-password"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("a cache or keytab vedauth cannot read, a bad mechanism or KDC: usage errors that name the type and what to do", () =>
    Effect.gen(function*() {
      const { home, realm, server } = yield* setup
      const login = (env: Record<string, string>, extra: ReadonlyArray<string> = []) =>
        runCli(["login", ...server, ...realm, ...extra], { env: { ...home, ...env } })
      // A KCM: cache is read through its daemon: none listens at this krb5.conf's (default) socket.
      const kcm = yield* login({ KRB5CCNAME: "KCM:" }, ["--mechanism", "kerberos"])
      assert.strictEqual(kcm.code, 1)
      assert.match(
        kcm.stderr,
        /^error: UsageError: cannot read the credential cache KCM:: KCM daemon at \S+: ENOENT; is the KCM daemon \(sssd-kcm\) running.*\(KRB5CCNAME\)\n$/
      )
      const keyring = yield* login({ KRB5CCNAME: "KEYRING:persistent:1000" }, [
        "--username",
        "alice@CORP.EXAMPLE",
        "--mechanism",
        "kerberos"
      ])
      assert.strictEqual(keyring.code, 1)
      assert.match(keyring.stderr, /a KEYRING: credential cache.*\(KRB5CCNAME\)\n$/)
      const memoryKeytab = yield* login({ KRB5_CLIENT_KTNAME: "MEMORY:alice" })
      assert.strictEqual(memoryKeytab.code, 1)
      assert.match(memoryKeytab.stderr, /'MEMORY:alice' is a MEMORY: keytab, .*\(KRB5_CLIENT_KTNAME\)\n$/)
      const missingKeytab = yield* login({}, ["--keytab", "/nonexistent/alice.keytab"])
      assert.strictEqual(missingKeytab.code, 1)
      assert.match(
        missingKeytab.stderr,
        /^error: UsageError: cannot use the keytab '\/nonexistent\/alice\.keytab': .*\(--keytab\)\n$/
      )
      const mechanism = yield* login({}, ["--mechanism", "digest"])
      assert.strictEqual(mechanism.code, 1)
      assert.strictEqual(
        mechanism.stderr,
        "error: UsageError: 'digest' is not a mechanism: negotiate, kerberos or ntlm (--mechanism)\n"
      )
      const kdc = yield* runCli(["login", ...server], {
        env: { ...home, VEDAUTH_KDC: "kdc1.corp.example,kdc2.corp.example:0" }
      })
      assert.strictEqual(
        kdc.stderr,
        "error: UsageError: 'kdc2.corp.example:0' is not a KDC address: host, host:port or [ipv6]:port (VEDAUTH_KDC)\n"
      )
      assert.strictEqual(kdc.code, 1)
      // Under negotiate (the default) sssd's KEYRING: cache is passed over: the password serves.
      ok(
        yield* runCli(["login", ...server, ...realm, "--username", "alice@CORP.EXAMPLE", "--password-stdin"], {
          env: { ...home, KRB5CCNAME: "KEYRING:persistent:1000" },
          stdin: password
        })
      )
      // --mechanism ntlm reads no Kerberos setting: a KCM: cache is then no obstacle.
      ok(
        yield* runCli(["login", ...server, "--mechanism", "ntlm", "--username", "CORP\\alice", "--password-stdin"], {
          env: { ...home, KRB5CCNAME: "KCM:" },
          stdin: password
        })
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("issue #21 R2: a FIFO or a link to /dev/zero as the keytab, KRB5CCNAME or KRB5_CONFIG ends at once with a typed error, never a hang; with --realm and --kdc krb5.conf is not read", () =>
    Effect.gen(function*() {
      const { dir, home, realm, server } = yield* setup
      const fifo = `${dir}/fifo`
      execFileSync("mkfifo", ["-m", "600", fifo])
      const zero = `${dir}/zero`
      yield* Effect.promise(() => Fs.symlink("/dev/zero", zero))
      const user = ["--username", "alice@CORP.EXAMPLE", "--password-stdin"]
      for (const bad of [fifo, zero]) {
        const keytab = yield* runCli(["login", ...server, ...realm, "--keytab", bad], { env: home })
        assert.strictEqual(keytab.code, 1, keytab.stderr)
        assert.match(
          keytab.stderr,
          /^error: UsageError: cannot use the keytab '.*': .*(FIFO|CharacterDevice), not a regular file.*\(--keytab\)\n$/
        )
        const cache = yield* runCli(["login", ...server, ...realm, "--mechanism", "kerberos"], {
          env: { ...home, KRB5CCNAME: `FILE:${bad}` }
        })
        assert.strictEqual(cache.code, 1, cache.stderr)
        assert.match(
          cache.stderr,
          /^error: UsageError: cannot use the credential cache '.*': .*(FIFO|symbolic link).*\(KRB5CCNAME\)\n$/
        )
        // No --kdc or --realm: krb5.conf is needed, and refused.
        const conf = yield* runCli(
          ["login", ...server, "--spn", "HTTP/localhost", "--mechanism", "kerberos", ...user],
          { env: { ...home, KRB5_CONFIG: bad }, stdin: password }
        )
        assert.strictEqual(conf.code, 5, conf.stderr)
        assert.match(
          conf.stderr,
          /^error: KerberosError: KRB5_CONF_UNREADABLE: cannot use the krb5\.conf .*(FIFO|CharacterDevice), not a regular file/
        )
      }
      // With the realm and the KDC given it has nothing to add, and is not opened: the login works.
      ok(
        yield* runCli(["login", ...server, ...realm, "--mechanism", "kerberos", ...user], {
          env: { ...home, KRB5_CONFIG: fifo },
          stdin: password
        })
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
