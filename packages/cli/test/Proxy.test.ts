/**
 * `vedauth` through a real proxy (a private squid on loopback, as in @vedauth/testing's proxy tests):
 * `--proxy`, `HTTPS_PROXY` with Basic credentials, `--no-proxy`, a wrong proxy password (exit 4), and
 * a password on the command line refused before anything is sent.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { type AccessLine, squid } from "@vedauth/test-helpers/squid"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { fails, ok, runIn, setupGrants } from "./support/grants.js"
import { runCli } from "./support/runCli.js"

const proxyUser = { user: "proxy-alice", password: "Pr0xy-s3cret" }
const connects = (log: ReadonlyArray<AccessLine>) => log.filter((line) => line.method === "CONNECT")

const setup = Effect.gen(function*() {
  const grants = yield* setupGrants()
  const env = { ...grants.env, VEDAUTH_PASSWORD: Redacted.value(Simulator.defaultCredentials.password) }
  const login = [...grants.server(), "--username", "CORP\\alice"]
  const run = (args: ReadonlyArray<string>, more: Record<string, string> = {}) =>
    runIn(grants.dir, args, { ...env, ...more })
  return { ...grants, login, run }
})

describe("vedauth through a proxy", () => {
  it.live("--proxy: login, verify, refresh and revoke each through a CONNECT tunnel; --no-proxy naming TPP goes direct", () =>
    Effect.gen(function*() {
      const { login, run, served } = yield* setup
      const proxy = yield* squid()
      const through = ["--proxy", proxy.url()]
      ok(yield* run(["login", ...login, ...through]))
      for (const command of ["verify", "refresh"]) ok(yield* run([command, ...through]))
      ok(yield* run(["login", ...login, ...through, "--no-proxy", `127.0.0.1:${new URL(served.url).port}`]))
      ok(yield* run(["revoke", ...through]))
      const log = connects(yield* proxy.stop)
      // login (one tunnel for the handshake), verify, refresh, revoke; not the login sent direct.
      assert.strictEqual(log.length, 4)
      for (const line of log) assert.strictEqual(line.url, `127.0.0.1:${new URL(served.url).port}`)
    }).pipe(Effect.provide(NodeFileSystem.layer), Effect.scoped))

  it.live("HTTPS_PROXY with Basic credentials logs in as the proxy's user; a wrong proxy password exits 4 naming the proxy", () =>
    Effect.gen(function*() {
      const { login, run } = yield* setup
      const proxy = yield* squid({ basic: proxyUser })
      ok(yield* run(["login", ...login], { HTTPS_PROXY: proxy.url(proxyUser) }))
      const wrong = yield* run(["login", ...login], {
        HTTPS_PROXY: proxy.url({ user: proxyUser.user, password: "n0t-the-one" })
      })
      fails(wrong, 4, new RegExp(`proxy authentication required by the proxy 127\\.0\\.0\\.1:${proxy.port}`))
      assert.notInclude(wrong.stderr + wrong.stdout, "n0t-the-one")
      const log = connects(yield* proxy.stop)
      assert.deepStrictEqual(log.map((line) => `${line.result} ${line.user}`), [
        `TCP_TUNNEL/200 ${proxyUser.user}`,
        `TCP_DENIED/407 ${proxyUser.user}`
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer), Effect.scoped))

  it.live("the certificate grant through the tunnel: the client certificate is presented to TPP inside it", () =>
    Effect.gen(function*() {
      const { kit, run, server, served } = yield* setup
      const proxy = yield* squid()
      const alice = kit.certificate("alice")
      ok(
        yield* run([
          "login",
          ...server(),
          "--grant",
          "certificate",
          "--client-cert",
          alice.cert,
          "--client-key",
          alice.key,
          "--proxy",
          proxy.url()
        ])
      )
      assert.strictEqual((yield* served.simulator.stats).authorizeCertificate, 1)
      assert.strictEqual(connects(yield* proxy.stop).length, 1)
    }).pipe(Effect.provide(NodeFileSystem.layer), Effect.scoped))

  it.live("a password in --proxy is refused (exit 1) before any connection, pointing at HTTPS_PROXY and VEDAUTH_PROXY", () =>
    Effect.gen(function*() {
      const { login, run } = yield* setup
      for (const value of [`http://u:${proxyUser.password}@127.0.0.1:1`, `u:${proxyUser.password}@127.0.0.1:1`]) {
        const refused = yield* run(["login", ...login, "--proxy", value])
        fails(refused, 1, /--proxy carries a password, .* HTTPS_PROXY or VEDAUTH_PROXY instead/)
        assert.notInclude(refused.stderr + refused.stdout, proxyUser.password)
      }
    }).pipe(Effect.provide(NodeFileSystem.layer), Effect.scoped))

  it.live("`vedauth demo` ignores HTTPS_PROXY: its simulator is in the process, on loopback", () =>
    Effect.gen(function*() {
      ok(yield* runCli(["demo"], { env: { HTTPS_PROXY: "http://127.0.0.1:1", http_proxy: "http://127.0.0.1:1" } }))
    }))
})
