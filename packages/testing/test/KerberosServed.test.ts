/**
 * Kerberos end to end on sockets: `NodeVedAuth` (its TCP `NodeKdcTransport` and `node:https`
 * transport) against the served simulator and its KDC on loopback, over HTTP and over HTTPS with
 * channel bindings required.
 */
import { assert, describe, it } from "@effect/vitest"
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeVedAuth } from "@vedauth/platform-node"
import { Effect } from "effect"
import * as Simulator from "../src/Simulator.js"

const authorizeOn = (protocol: "http" | "https") =>
  Effect.gen(function*() {
    const served = yield* Simulator.serve({ protocol, kerberos: {} })
    const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
    // The SPN is HTTP/<host>: a name, not the 127.0.0.1 the simulator listens on.
    const url = served.url.replace("127.0.0.1", "localhost")
    const grant = yield* VedAuth.authorize().pipe(
      Effect.provide(NodeVedAuth.layer({
        url,
        clientId: Simulator.defaultClientId,
        scope: "certificate:manage",
        username: "alice@CORP.EXAMPLE",
        password: Simulator.defaultCredentials.password,
        mechanism: "kerberos",
        kerberos: { kdc: served.kdc! },
        tokenStorePath: `${dir}/tokens.json`,
        ...(served.caPem === undefined ? {} : { transport: { ca: served.caPem } })
      }))
    )
    return { grant, stats: yield* served.simulator.stats }
  }).pipe(Effect.provide(NodeFileSystem.layer), Effect.scoped)

describe("Kerberos on sockets, NodeVedAuth against the served simulator and its KDC", () => {
  it.live("over HTTP: one HTTP round trip, the AP-REQ on the first request", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorizeOn("http")
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
    }))

  it.live("over HTTPS with channel bindings required: an anonymous request for the certificate, then the bound AP-REQ", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorizeOn("https")
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [2])
      assert.strictEqual(stats.handshakesRejected, 0)
    }))
})
