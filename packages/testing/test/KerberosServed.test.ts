/**
 * Kerberos end to end on sockets: `NodeVedAuth` (its TCP `NodeKdcTransport` and `node:https`
 * transport) against the served simulator and its KDC on loopback, over HTTP and over HTTPS with
 * channel bindings required.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeVedAuth } from "@vedauth/platform-node"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { Effect, Layer } from "effect"
import * as Simulator from "../src/Simulator.js"

const authorizeOn = (protocol: "http" | "https", trustCa = true, refuse?: "wrong-key") =>
  Effect.gen(function*() {
    const served = yield* Simulator.serve({
      protocol,
      kerberos: {},
      ...(refuse === undefined ? {} : { faults: { kerberosAcceptor: refuse } })
    })
    const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
    // The SPN is HTTP/<host>: a name, not the 127.0.0.1 the simulator listens on.
    const url = served.url.replace("127.0.0.1", "localhost")
    const grant = yield* VedAuth.authorize().pipe(
      Effect.provide(NodeVedAuth.layer({
        url,
        clientId: Simulator.defaultClientId,
        scope: "certificate:manage",
        password: Simulator.defaultCredentials.password,
        ...(refuse === undefined
          ? { username: "alice@CORP.EXAMPLE", mechanism: "kerberos", kerberos: { kdc: served.kdc! } }
          : { username: "CORP\\alice", mechanism: "negotiate", kerberos: { kdc: served.kdc!, realm: "CORP.EXAMPLE" } }),
        tokenStorePath: `${dir}/tokens.json`,
        ...(served.caPem === undefined || !trustCa ? {} : { transport: { ca: served.caPem } })
      }))
    )
    return { grant, stats: yield* served.simulator.stats }
  }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)), Effect.scoped)

describe("Kerberos on sockets, NodeVedAuth against the served simulator and its KDC", () => {
  it.live("over HTTP: one HTTP round trip, the AP-REQ on the first request", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorizeOn("http")
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
    }))

  it.live("over HTTPS with channel bindings required: one HTTP round trip, the AP-REQ bound to the certificate of a connection opened first", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorizeOn("https")
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
      assert.strictEqual(stats.connections, 1)
      assert.strictEqual(stats.handshakesRejected, 0)
    }))

  it.live("over HTTPS, a certificate the client does not trust fails the connection made first: TransportError", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(authorizeOn("https", false))
      assert.strictEqual(error._tag, "TransportError")
    }))

  it.live("over HTTPS, a server that refuses the ticket: negotiate's NTLM on a second connection, channel bindings on both (1 + 2 round trips)", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorizeOn("https", true, "wrong-key")
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.strictEqual(stats.requests, 3)
      assert.strictEqual(stats.connections, 2)
      assert.deepStrictEqual(stats.rejections, { KRB_AP_ERR_MODIFIED: 1 })
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [2])
    }))
})
