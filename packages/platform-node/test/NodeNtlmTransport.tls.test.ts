import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Logger, Option, Redacted } from "effect"
import * as Tls from "node:tls"
import * as NodeNtlmTransport from "../src/NodeNtlmTransport.js"
import * as NodeVedAuth from "../src/NodeVedAuth.js"
import { caFileFixture, clientKey, fileCa, inlineCa } from "./fixtures.js"

describe("NodeNtlmTransport TLS settings", () => {
  it.scoped("tlsOptions reads caFile into ca after the inline CAs and keeps the other fields", () =>
    Effect.gen(function*() {
      const { caFile } = yield* caFileFixture
      const resolved = yield* NodeNtlmTransport.tlsOptions({ ca: inlineCa, caFile, connectTimeout: "3 seconds" })
      assert.deepStrictEqual(resolved, { ca: [inlineCa, fileCa], connectTimeout: "3 seconds" })
      // Resolving again is a no-op: nothing left to read.
      assert.deepStrictEqual(yield* NodeNtlmTransport.tlsOptions(resolved), resolved)
    }))

  it.effect("an unreadable CA file is a TransportError naming the file", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(NodeNtlmTransport.tlsOptions({ caFile: "/nonexistent/vedauth-ca.pem" }))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.detail, "/nonexistent/vedauth-ca.pem")
    }))

  it("agentOptions builds one secure context per resolved value, and none when there is nothing to add", () => {
    assert.deepStrictEqual(NodeNtlmTransport.agentOptions({ ca: [] }), {})
    // A real certificate as the extra CA: the context is really built (and parses it).
    const resolved = { ca: [Tls.rootCertificates[0]!] }
    const context = NodeNtlmTransport.agentOptions(resolved).secureContext
    assert.isDefined(context)
    assert.strictEqual(NodeNtlmTransport.agentOptions(resolved).secureContext, context)
    assert.notStrictEqual(NodeNtlmTransport.agentOptions({ ca: [...resolved.ca] }).secureContext, context)
  })

  it.effect("tlsOptions gives back resolved settings as they are, so the layer's clients share their context", () =>
    Effect.gen(function*() {
      const resolved = yield* NodeNtlmTransport.tlsOptions({ ca: inlineCa })
      assert.strictEqual(yield* NodeNtlmTransport.tlsOptions(resolved), resolved)
    }))

  it.effect("a client key OpenSSL cannot load is a TransportError at the first request, without the key", () =>
    Effect.gen(function*() {
      const transport = yield* NodeNtlmTransport.make({ clientCertificate: { cert: "CERT", key: clientKey } })
      const error = yield* Effect.flip(transport.request({
        method: "GET",
        url: "https://127.0.0.1:9/",
        headers: {},
        credentials: { domain: "CORP", username: "alice", password: Redacted.make("unused") }
      }))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "cannot use the TLS client certificate")
      assert.notInclude(JSON.stringify(error) + error.message, "secret-key")
    }))

  it.effect("the HTTP client fails such a request with a RequestError (not a defect), without the key", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const error = yield* Effect.flip(client.get("https://127.0.0.1:9/"))
      assert.strictEqual(error._tag, "RequestError")
      assert.include(error.message, "cannot use the TLS client certificate")
      assert.notInclude(JSON.stringify(error) + error.message, "secret-key")
    }).pipe(
      Effect.provide(NodeVedAuth.layerHttpClient({ ca: [], clientCertificate: { cert: "CERT", key: clientKey } }))
    ))

  it("fromConfig leaves out what is not configured, so the defaults apply", () => {
    assert.deepStrictEqual(
      NodeNtlmTransport.fromConfig({
        caFile: Option.none(),
        allowUnverifiedTls: false,
        connectTimeout: Option.none(),
        responseTimeout: Option.none(),
        clientCert: Option.some("/only-the-cert.pem"),
        clientKey: Option.none()
      }),
      {}
    )
    assert.deepStrictEqual(
      NodeNtlmTransport.fromConfig({
        caFile: Option.some("/ca.pem"),
        allowUnverifiedTls: true,
        clientCert: Option.none(),
        clientKey: Option.none(),
        connectTimeout: Option.none(),
        responseTimeout: Option.some(Duration.seconds(5))
      }),
      { caFile: "/ca.pem", allowUnverifiedTls: true, responseTimeout: Duration.seconds(5) }
    )
  })

  it.effect("NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment is refused unless opted in (then a warning)", () =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const before = process.env["NODE_TLS_REJECT_UNAUTHORIZED"]
        process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = "0"
        return before
      }),
      () =>
        Effect.gen(function*() {
          const refused = yield* Effect.flip(NodeNtlmTransport.make())
          assert.strictEqual(refused._tag, "TransportError")
          assert.include(refused.message, "NODE_TLS_REJECT_UNAUTHORIZED=0")
          const warnings: Array<string> = []
          yield* NodeNtlmTransport.make({ allowUnverifiedTls: true }).pipe(
            Effect.provide(
              Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void warnings.push(String(message))))
            )
          )
          assert.isTrue(warnings.some((line) => line.includes("not verified")))
        }),
      (before) =>
        Effect.sync(() => {
          if (before === undefined) delete process.env["NODE_TLS_REJECT_UNAUTHORIZED"]
          else process.env["NODE_TLS_REJECT_UNAUTHORIZED"] = before
        })
    ))
})
