/**
 * The conformance suite, written once: each case is an Effect over a `Platform`, run by a thin
 * runner per runtime (`deno test`, Bun, vitest on Node). Every case serves the simulator on loopback
 * and talks to it over real sockets through the runtime's own layer. Time is a `TestClock` set to
 * the wall clock at the start (the simulator's certificate must be valid for real TLS checks) and
 * moved by the case; the simulator, served from the same runtime, reads the same clock.
 */
import * as VedAuth from "@vedauth/core/VedAuth"
import type { NodeNtlmTransport } from "@vedauth/platform-node"
import * as Simulator from "@vedauth/testing/Simulator"
import { Clock, Effect, Either, Layer, Redacted, TestClock, TestContext } from "effect"
import type { Scope } from "effect"
import * as assert from "node:assert/strict"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Platform } from "./Platform.js"
import { testProxy } from "./proxy.js"

export interface Case {
  readonly name: string
  readonly run: (platform: Platform) => Effect.Effect<void, unknown, Scope.Scope>
}

const password = Redacted.make("Passw0rd!")

interface Setup {
  readonly served: Simulator.Served & { readonly simulator: Simulator.Service }
  readonly handshakes: Array<NodeNtlmTransport.Stats>
  readonly storePath: string
  /** The runtime's VedAuth layer against this simulator; built anew for each call (a new "process"). */
  readonly layer: (
    overrides?: Partial<VedAuth.Options> & { readonly proxy?: string }
  ) => Layer.Layer<VedAuth.VedAuth, unknown>
}

const tempDirectory = Effect.acquireRelease(
  Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-conformance-"))),
  (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
)

const setup = (platform: Platform, options: Simulator.ServeOptions) =>
  Effect.gen(function*() {
    const served = yield* Simulator.serve(options)
    const dir = yield* tempDirectory
    const storePath = Path.join(dir, "state", "tokens.json")
    const handshakes: Array<NodeNtlmTransport.Stats> = []
    const layer = (overrides: Partial<VedAuth.Options> & { readonly proxy?: string } = {}) =>
      platform.layer({
        url: served.url,
        clientId: Simulator.defaultClientId,
        scope: "certificate:manage,revoke",
        username: "CORP\\alice",
        password,
        ca: served.caPem,
        tokenStorePath: storePath,
        onHandshake: (stats) => handshakes.push(stats),
        ...overrides
      })
    return { served, handshakes, storePath, layer } satisfies Setup
  })

/** NTLM needs the CHALLENGE and the AUTHENTICATE on one connection: prove each handshake was 2 round trips on 1 socket. */
const assertOneConnectionPerHandshake = (handshakes: ReadonlyArray<NodeNtlmTransport.Stats>, count: number) => {
  assert.equal(handshakes.length, count, "handshakes")
  for (const h of handshakes) {
    assert.equal(h.sockets, 1, "sockets in one handshake")
    assert.equal(h.roundTrips, 2, "round trips in one handshake")
  }
}

const authorizeAndVerify = (protocol: "http" | "https") => (platform: Platform) =>
  Effect.gen(function*() {
    const { handshakes, layer, served } = yield* setup(platform, { protocol, channelBindings: "required" })
    const { grant, info } = yield* Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      const info = yield* VedAuth.verify(grant.accessToken)
      return { grant, info }
    }).pipe(Effect.provide(layer()))
    assert.equal(grant.scope, "certificate:manage,revoke")
    assert.match(grant.identity, /^AD\+corp:/i)
    assert.equal(info.identity, grant.identity)
    assert.equal(info.application, Simulator.defaultClientId)
    assertOneConnectionPerHandshake(handshakes, 1)
    const stats = yield* served.simulator.stats
    assert.equal(stats.handshakesCompleted, 1)
    assert.equal(stats.handshakesRejected, 0)
    assert.equal(stats.authorizeIntegrated, 1)
  })

const overHttp: Case = {
  name: "authorize over HTTP: NTLM on one kept-alive connection, then verify",
  run: authorizeAndVerify("http")
}

const refreshAndRevokeOverHttp: Case = {
  name: "over HTTP: the managed token is refreshed when due, then revoked",
  run: (platform) =>
    Effect.gen(function*() {
      const { layer, served } = yield* setup(platform, { protocol: "http" })
      yield* Effect.gen(function*() {
        const first = yield* VedAuth.accessToken
        yield* TestClock.adjust("56 minutes")
        const grant = yield* VedAuth.grant
        assert.notEqual(Redacted.value(grant.accessToken), Redacted.value(first))
        assert.equal((yield* VedAuth.revoke(grant))._tag, "Revoked")
      }).pipe(Effect.provide(layer()))
      const stats = yield* served.simulator.stats
      assert.equal(stats.authorizeIntegrated, 1)
      assert.equal(stats.refresh, 1)
      assert.equal(stats.revoke, 1)
    })
}

/** Through a CONNECT proxy: TLS to TPP inside the tunnel, the NTLM handshake on one tunnel, every call proxied. */
const throughProxy: Case = {
  name:
    "through a CONNECT proxy: NTLM authorize over HTTPS (channel bindings required) on one tunnel, verify through another",
  run: (platform) =>
    Effect.gen(function*() {
      const { handshakes, layer, served } = yield* setup(platform, { protocol: "https", channelBindings: "required" })
      const proxy = yield* testProxy()
      yield* Effect.gen(function*() {
        const grant = yield* VedAuth.authorize()
        yield* VedAuth.verify(grant.accessToken)
      }).pipe(Effect.provide(layer({ proxy: proxy.url })))
      assertOneConnectionPerHandshake(handshakes, 1)
      const stats = yield* served.simulator.stats
      assert.equal(stats.verify, 1)
      assert.deepEqual(
        proxy.connects.map((c) => `${c.status} ${c.target}`),
        Array(stats.connections).fill(`200 127.0.0.1:${served.port}`)
      )
    })
}

const throughNegotiateProxy: Case = {
  name:
    "through a proxy that requires Negotiate: a ticket for HTTP/localhost from the KDC, one 407, then every CONNECT as alice",
  run: (platform) =>
    Effect.gen(function*() {
      const { handshakes, layer, served } = yield* setup(platform, { protocol: "https", kerberos: {} })
      // The proxy holds the simulator's keys, HTTP/localhost among them; TPP is reached with NTLM.
      const proxy = yield* testProxy({ negotiate: served.simulator.kerberos!.serviceKeytab })
      yield* Effect.gen(function*() {
        const grant = yield* VedAuth.authorize()
        yield* VedAuth.verify(grant.accessToken)
      }).pipe(
        Effect.provide(
          layer({ proxy: proxy.url, mechanism: "ntlm", kerberos: { kdc: served.kdc!, realm: "CORP.EXAMPLE" } })
        )
      )
      assertOneConnectionPerHandshake(handshakes, 1)
      const stats = yield* served.simulator.stats
      assert.deepEqual(proxy.connects.map((c) => `${c.status} ${c.user}`), [
        "407 -",
        ...Array(stats.connections).fill("200 alice@CORP.EXAMPLE")
      ])
    })
}

/** The cases that need no TLS (plain HTTP). */
export const httpCases: ReadonlyArray<Case> = [overHttp, refreshAndRevokeOverHttp]

export const cases: ReadonlyArray<Case> = [
  overHttp,
  refreshAndRevokeOverHttp,
  throughProxy,
  throughNegotiateProxy,
  {
    name: "authorize over HTTPS with channel bindings required, then verify with the simulator's CA",
    run: authorizeAndVerify("https")
  },
  {
    name: "managed token: stored in a 0600 file, fresh until due, refreshed ahead of expiry, read back by a new layer",
    run: (platform) =>
      Effect.gen(function*() {
        const { handshakes, layer, served, storePath } = yield* setup(platform, { protocol: "https" })
        const first = yield* Effect.gen(function*() {
          const first = yield* VedAuth.accessToken
          const again = yield* VedAuth.accessToken
          assert.equal(Redacted.value(again), Redacted.value(first), "a fresh token is handed out as it is")
          return first
        }).pipe(Effect.provide(layer()))
        let stats = yield* served.simulator.stats
        assert.equal(stats.authorizeIntegrated, 1)
        assert.equal(stats.refresh, 0)
        const mode = (yield* Effect.promise(() => Fs.stat(storePath))).mode & 0o777
        assert.equal(mode, 0o600, "token store file mode")

        // The simulator's tokens live 1 hour; the refresh is due 5 minutes before the end.
        yield* TestClock.adjust("56 minutes")
        const second = yield* VedAuth.accessToken.pipe(Effect.provide(layer()))
        assert.notEqual(Redacted.value(second), Redacted.value(first), "a due token is refreshed")
        stats = yield* served.simulator.stats
        assert.equal(stats.refresh, 1)
        assert.equal(stats.authorizeIntegrated, 1, "a refresh, not a new authorize")
        const stored = yield* Effect.promise(() => Fs.readFile(storePath, "utf8"))
        assert.ok(stored.includes(Redacted.value(second)), "the new pair is stored")
        assert.ok(!stored.includes(Redacted.value(password)), "the password is never stored")

        // Another layer (another process, as far as the store knows) reads the stored grant.
        const third = yield* Effect.gen(function*() {
          const token = yield* VedAuth.accessToken
          const info = yield* VedAuth.verify(token)
          assert.equal(info.application, Simulator.defaultClientId)
          return token
        }).pipe(Effect.provide(layer()))
        assert.equal(Redacted.value(third), Redacted.value(second))
        stats = yield* served.simulator.stats
        assert.equal(stats.refresh, 1)
        assert.equal(stats.authorizeIntegrated, 1)
        assertOneConnectionPerHandshake(handshakes, 1)
      })
  },
  {
    name: "managed token: once the grant has ended, authorize again",
    run: (platform) =>
      Effect.gen(function*() {
        const { layer, served } = yield* setup(platform, { protocol: "https" })
        const first = yield* VedAuth.accessToken.pipe(Effect.provide(layer()))
        yield* TestClock.adjust("25 hours")
        const second = yield* VedAuth.accessToken.pipe(Effect.provide(layer()))
        assert.notEqual(Redacted.value(second), Redacted.value(first))
        const stats = yield* served.simulator.stats
        assert.equal(stats.authorizeIntegrated, 2)
        assert.equal(stats.refresh, 0)
      })
  },
  {
    name: "revoke: Revoked, then the token is refused and a second revoke is NotFound",
    run: (platform) =>
      Effect.gen(function*() {
        const { layer } = yield* setup(platform, { protocol: "https" })
        yield* Effect.gen(function*() {
          const grant = yield* VedAuth.authorize()
          const first = yield* VedAuth.revoke(grant)
          assert.equal(first._tag, "Revoked")
          const refused = yield* Effect.either(VedAuth.verify(grant.accessToken))
          assert.ok(Either.isLeft(refused))
          assert.equal(refused.left._tag, "InvalidToken")
          const second = yield* VedAuth.revoke(grant)
          assert.equal(second._tag, "NotFound")
        }).pipe(Effect.provide(layer()))
      })
  },
  {
    name: "session: the grant is revoked when its scope closes",
    run: (platform) =>
      Effect.gen(function*() {
        const { layer, served } = yield* setup(platform, { protocol: "https" })
        yield* Effect.gen(function*() {
          const grant = yield* Effect.scoped(VedAuth.session)
          const refused = yield* Effect.either(VedAuth.verify(grant.accessToken))
          assert.ok(Either.isLeft(refused))
          assert.equal(refused.left._tag, "InvalidToken")
        }).pipe(Effect.provide(layer()))
        assert.equal((yield* served.simulator.stats).revoke, 1)
      })
  },
  {
    name: "wrong password: AuthenticationFailed, and the password is in no message",
    run: (platform) =>
      Effect.gen(function*() {
        const { layer, served } = yield* setup(platform, { protocol: "https" })
        const wrong = "Wr0ng-Passw0rd!"
        const result = yield* Effect.either(
          VedAuth.authorize().pipe(Effect.provide(layer({ password: Redacted.make(wrong) })))
        )
        assert.ok(Either.isLeft(result))
        const error = result.left
        assert.equal((error as { _tag?: unknown })._tag, "AuthenticationFailed")
        for (const text of [String(error), JSON.stringify(error), (error as Error).message]) {
          assert.ok(!text.includes(wrong), "the wrong password leaks")
          assert.ok(!text.includes(Redacted.value(password)), "the real password leaks")
        }
        assert.equal((yield* served.simulator.stats).handshakesRejected, 1)
      })
  },
  {
    name:
      "Kerberos over HTTPS with channel bindings required: tickets from the simulator's KDC over TCP, one round trip on one socket",
    run: (platform) =>
      Effect.gen(function*() {
        const { handshakes, layer, served } = yield* setup(platform, { protocol: "https", kerberos: {} })
        // The SPN is HTTP/<host of the URL>: a name, not the address the simulator listens on.
        const url = served.url.replace("127.0.0.1", "localhost")
        const grant = yield* VedAuth.authorize().pipe(
          Effect.provide(
            layer({ url, username: "alice@CORP.EXAMPLE", mechanism: "kerberos", kerberos: { kdc: served.kdc! } })
          )
        )
        assert.equal(grant.scope, "certificate:manage,revoke")
        assert.deepEqual(handshakes.map((h) => [h.roundTrips, h.sockets]), [[1, 1]])
        const stats = yield* served.simulator.stats
        assert.equal(stats.handshakesCompleted, 1)
        assert.equal(stats.handshakesRejected, 0)
      })
  },
  {
    name: "Kerberos refused by the server under negotiate: NTLM once on a fresh connection (1 + 2 round trips)",
    run: (platform) =>
      Effect.gen(function*() {
        const { handshakes, layer, served } = yield* setup(platform, {
          protocol: "https",
          kerberos: {},
          faults: { kerberosAcceptor: "wrong-key" }
        })
        const url = served.url.replace("127.0.0.1", "localhost")
        const grant = yield* VedAuth.authorize().pipe(
          Effect.provide(layer({ url, mechanism: "negotiate", kerberos: { kdc: served.kdc!, realm: "CORP.EXAMPLE" } }))
        )
        assert.equal(grant.scope, "certificate:manage,revoke")
        const stats = yield* served.simulator.stats
        assert.equal(stats.requests, 3)
        assert.deepEqual(stats.rejections, { KRB_AP_ERR_MODIFIED: 1 })
        assert.deepEqual(stats.roundTripsPerHandshake, [2])
        assert.deepEqual(
          handshakes.at(-1) === undefined ? undefined : [handshakes.at(-1)!.roundTrips, handshakes.at(-1)!.sockets],
          [2, 1]
        )
      })
  },
  {
    name: "scope beyond the integration: InvalidScope with the server's description",
    run: (platform) =>
      Effect.gen(function*() {
        const { layer } = yield* setup(platform, { protocol: "https" })
        const result = yield* Effect.either(
          VedAuth.authorize({ scope: "certificate:manage,revoke;ssh:manage" }).pipe(Effect.provide(layer()))
        )
        assert.ok(Either.isLeft(result))
        assert.equal((result.left as { _tag?: unknown })._tag, "InvalidScope")
        assert.match((result.left as Error).message, /exceeds the scope/)
      })
  }
]

/**
 * One case as an Effect, for any runner: a scope for the simulator and temp files, and a TestClock
 * that starts at the wall clock.
 */
export const caseEffect = (platform: Platform, testCase: Case): Effect.Effect<void, unknown> =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    yield* Effect.gen(function*() {
      yield* TestClock.setTime(now)
      yield* testCase.run(platform)
    }).pipe(Effect.scoped, Effect.provide(TestContext.TestContext))
  })

/** One case as a Promise, for runners that take async functions. */
export const runCase = (platform: Platform, testCase: Case): Promise<void> =>
  Effect.runPromise(caseEffect(platform, testCase))
