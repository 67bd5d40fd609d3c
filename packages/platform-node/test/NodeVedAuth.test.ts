import { HttpClient } from "@effect/platform"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { NtlmTransport } from "@vedauth/core/NtlmTransport"
import * as VedAuth from "@vedauth/core/VedAuth"
import { Effect, Layer } from "effect"
import * as Path from "node:path"
import * as NodeTokenStoreFiles from "../src/NodeTokenStoreFiles.js"
import * as NodeVedAuth from "../src/NodeVedAuth.js"
import { caFileFixture, clientKey, fileCa } from "./fixtures.js"

const unusedClient = HttpClient.make(() => Effect.die("no plain call in this test"))
const unusedTransport = NtlmTransport.of({ request: () => Effect.die("no NTLM call in this test") })

describe("NodeVedAuth.compose", () => {
  it.scoped("reads the CA file once and hands the same resolved settings to the HTTP client and the transport", () =>
    Effect.gen(function*() {
      const { caFile, dir } = yield* caFileFixture
      const seen: Array<{ readonly by: string; readonly options: object }> = []
      const layer = NodeVedAuth.compose({
        url: "https://tpp.example",
        clientId: "vedauth-demo",
        scope: "certificate:manage",
        tokenStorePath: Path.join(dir, "tokens.json"),
        transport: { caFile, clientCertificate: { cert: "CERT", key: clientKey } }
      }, {
        httpClient: (options) => {
          seen.push({ by: "httpClient", options })
          return Layer.succeed(HttpClient.HttpClient, unusedClient)
        },
        transport: (options) => {
          seen.push({ by: "transport", options })
          return Layer.succeed(NtlmTransport, unusedTransport)
        },
        files: Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer)
      })
      yield* VedAuth.VedAuth.pipe(Effect.provide(layer))
      assert.deepStrictEqual(seen.map(({ by }) => by), ["httpClient", "transport"])
      assert.strictEqual(seen[0]!.options, seen[1]!.options)
      assert.deepStrictEqual(seen[0]!.options, { ca: [fileCa], clientCertificate: { cert: "CERT", key: clientKey } })
      // The same client is provided to the program, for its own calls through VedAuth.httpClient.
      assert.strictEqual(yield* HttpClient.HttpClient.pipe(Effect.provide(layer)), unusedClient)
    }))
})
