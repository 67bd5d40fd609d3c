/**
 * Through a real proxy (Debian's squid, private, on loopback): `NodeVedAuth` against the served
 * simulator over HTTPS, with NTLM and with Kerberos (the KDC reached directly), every call through a
 * CONNECT tunnel; an open squid and one requiring Basic authentication; NO_PROXY sending the calls
 * direct; a wrong proxy password a typed TransportError. Squid's access log is the witness.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeTokenStoreFiles, NodeVedAuth } from "@vedauth/platform-node"
import type * as NodeNtlmTransport from "@vedauth/platform-node/NodeNtlmTransport"
import { type AccessLine, squid } from "@vedauth/test-helpers/squid"
import { Effect, Layer, Redacted } from "effect"
import * as Simulator from "../src/Simulator.js"

const proxyUser = { user: "proxy-alice", password: "p@ss w:rd%" }

type Mechanism = "ntlm" | "kerberos"

/** An authorize, then verify, refresh and revoke, on one `NodeVedAuth` layer with these proxy settings. */
const session = (
  served: Simulator.Served & { readonly simulator: Simulator.Service },
  mechanism: Mechanism,
  proxy: NodeNtlmTransport.ProxyOptions,
  trustCa = true
) =>
  Effect.gen(function*() {
    const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
    // Kerberos' SPN is HTTP/<host>: a name, not the 127.0.0.1 the simulator listens on.
    const url = mechanism === "kerberos" ? served.url.replace("127.0.0.1", "localhost") : served.url
    const layer = NodeVedAuth.layer({
      url,
      clientId: Simulator.defaultClientId,
      scope: "certificate:manage",
      password: Simulator.defaultCredentials.password,
      ...(mechanism === "kerberos"
        ? { username: "alice@CORP.EXAMPLE", mechanism: "kerberos", kerberos: { kdc: served.kdc! } }
        : { username: "CORP\\alice", mechanism: "ntlm" }),
      tokenStorePath: `${dir}/tokens.json`,
      transport: { ...(served.caPem === undefined || !trustCa ? {} : { ca: served.caPem }), ...proxy }
    })
    return yield* Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      const info = yield* VedAuth.verify(grant.accessToken)
      const refreshed = yield* VedAuth.refresh(grant)
      yield* VedAuth.revoke(refreshed)
      return { grant, info }
    }).pipe(Effect.provide(layer))
  })

const served = (kerberos: boolean, protocol: "http" | "https" = "https") =>
  Simulator.serve({ protocol, ...(kerberos ? { kerberos: {} } : {}) })

const setEnv = (env: Record<string, string>) =>
  Effect.acquireRelease(
    Effect.sync(() => Object.assign(process.env, env)),
    () => Effect.sync(() => Object.keys(env).forEach((name) => delete process.env[name]))
  )

const connects = (log: ReadonlyArray<AccessLine>) => log.filter((line) => line.method === "CONNECT")

const port = (url: string) => new URL(url).port

const platform = Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)

describe("through squid", () => {
  for (const mechanism of ["ntlm", "kerberos"] as const) {
    it.live(`${mechanism} through an open squid: authorize, verify, refresh and revoke each in a CONNECT tunnel`, () =>
      Effect.gen(function*() {
        const server = yield* served(mechanism === "kerberos")
        const proxy = yield* squid()
        const { grant } = yield* session(server, mechanism, { proxy: proxy.url() })
        assert.strictEqual(grant.scope, "certificate:manage")
        const stats = yield* server.simulator.stats
        // The handshake's round trips are those of a direct connection: NTLM 2, Kerberos 1, on one connection.
        assert.deepStrictEqual(stats.roundTripsPerHandshake, [mechanism === "ntlm" ? 2 : 1])
        assert.strictEqual(stats.handshakesRejected, 0)
        const log = connects(yield* proxy.stop)
        // Every connection the simulator saw came through a tunnel: the handshake's one, then the plain calls'.
        assert.strictEqual(log.length, stats.connections)
        const host = mechanism === "kerberos" ? "localhost" : "127.0.0.1"
        for (const line of log) {
          assert.strictEqual(line.url, `${host}:${port(server.url)}`)
          assert.strictEqual(line.result, "TCP_TUNNEL/200")
        }
        assert.strictEqual(stats.verify + stats.refresh + stats.revoke, 3)
      }).pipe(Effect.provide(platform), Effect.scoped))

    it.live(`${mechanism} through squid with Basic authentication: the proxy's user in its log`, () =>
      Effect.gen(function*() {
        const server = yield* served(mechanism === "kerberos")
        const proxy = yield* squid({ basic: proxyUser })
        const { grant } = yield* session(server, mechanism, { proxy: Redacted.make(proxy.url(proxyUser)) })
        assert.strictEqual(grant.scope, "certificate:manage")
        const log = connects(yield* proxy.stop)
        assert.isAbove(log.length, 0)
        for (const line of log) assert.strictEqual(`${line.result} ${line.user}`, `TCP_TUNNEL/200 ${proxyUser.user}`)
      }).pipe(Effect.provide(platform), Effect.scoped))
  }

  it.live("a wrong proxy password, or none, is a TransportError naming the proxy, never the password; TPP sees nothing", () =>
    Effect.gen(function*() {
      const server = yield* served(false)
      const proxy = yield* squid({ basic: proxyUser })
      const wrong = yield* Effect.flip(
        session(server, "ntlm", { proxy: proxy.url({ user: proxyUser.user, password: "n0t-the-one" }) })
      )
      assert.strictEqual(wrong._tag, "TransportError")
      const wrongDetail = (wrong as { detail: string }).detail
      assert.include(wrongDetail, `proxy authentication required by the proxy 127.0.0.1:${proxy.port}`)
      assert.include(wrongDetail, "refused the user and password")
      assert.notInclude(JSON.stringify(wrong), "n0t-the-one")
      const none = yield* Effect.flip(session(server, "ntlm", { proxy: proxy.url() }))
      assert.include(
        (none as { detail: string }).detail,
        "(it offers Basic); give the user and password in HTTPS_PROXY or VEDAUTH_PROXY"
      )
      assert.strictEqual((yield* server.simulator.stats).requests, 0)
      // One CONNECT each, refused: no retry.
      assert.deepStrictEqual(connects(yield* proxy.stop).map((line) => line.result), [
        "TCP_DENIED/407",
        "TCP_DENIED/407"
      ])
    }).pipe(Effect.provide(platform), Effect.scoped))

  it.live("HTTPS_PROXY from the environment is used, and NO_PROXY naming TPP sends every call direct", () =>
    Effect.gen(function*() {
      const server = yield* served(false)
      const proxy = yield* squid()
      yield* Effect.scoped(Effect.zipRight(setEnv({ HTTPS_PROXY: proxy.url() }), session(server, "ntlm", {})))
      const proxied = (yield* server.simulator.stats).connections
      yield* Effect.scoped(
        Effect.zipRight(
          setEnv({ HTTPS_PROXY: proxy.url(), NO_PROXY: `localhost,127.0.0.1:${port(server.url)}` }),
          session(server, "ntlm", {})
        )
      )
      assert.isAbove((yield* server.simulator.stats).connections, proxied)
      // Only the first session's connections went through squid.
      assert.strictEqual(connects(yield* proxy.stop).length, proxied)
    }).pipe(Effect.provide(platform), Effect.scoped))

  it.live("plain http:// TPP through http_proxy: a CONNECT tunnel too, NTLM's two round trips on it; HTTPS_PROXY does not apply", () =>
    Effect.gen(function*() {
      const server = yield* served(false, "http")
      const proxy = yield* squid()
      yield* Effect.scoped(Effect.zipRight(setEnv({ http_proxy: proxy.url() }), session(server, "ntlm", {})))
      const stats = yield* server.simulator.stats
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [2])
      yield* Effect.scoped(Effect.zipRight(setEnv({ HTTPS_PROXY: proxy.url() }), session(server, "ntlm", {})))
      const log = connects(yield* proxy.stop)
      assert.strictEqual(log.length, stats.connections)
      for (const line of log) assert.strictEqual(line.url, `127.0.0.1:${port(server.url)}`)
    }).pipe(Effect.provide(platform), Effect.scoped))

  it.live("TLS inside the tunnel is checked against TPP: without TPP's CA the call fails, though the proxy opened the tunnel", () =>
    Effect.gen(function*() {
      const server = yield* served(true)
      const proxy = yield* squid()
      for (const mechanism of ["ntlm", "kerberos"] as const) {
        const error = yield* Effect.flip(session(server, mechanism, { proxy: proxy.url() }, false))
        assert.strictEqual(error._tag, "TransportError")
        assert.match((error as { detail: string }).detail, /certificate/)
      }
      assert.strictEqual((yield* server.simulator.stats).requests, 0)
      assert.strictEqual(connects(yield* proxy.stop).length, 2)
    }).pipe(Effect.provide(platform), Effect.scoped))

  it.live("Kerberos with the proxy set and noProxy naming TPP: the connection opened first for the channel bindings goes direct", () =>
    Effect.gen(function*() {
      const server = yield* served(true)
      const proxy = yield* squid()
      const { grant } = yield* session(server, "kerberos", { proxy: proxy.url(), noProxy: ".localhost" })
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual((yield* server.simulator.stats).roundTripsPerHandshake, [1])
      assert.deepStrictEqual(connects(yield* proxy.stop), [])
    }).pipe(Effect.provide(platform), Effect.scoped))
})
