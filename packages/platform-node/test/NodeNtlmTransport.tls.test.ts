import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Logger, Option, Redacted } from "effect"
import * as Tls from "node:tls"
import * as NodeNtlmTransport from "../src/NodeNtlmTransport.js"
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

  it("agentOptions keeps Node's roots, adds the extra CAs, and unwraps the client key for the agent only", () => {
    assert.deepStrictEqual(NodeNtlmTransport.agentOptions({ ca: [] }), {})
    const agent = NodeNtlmTransport.agentOptions({ ca: [fileCa], clientCertificate: { cert: "CERT", key: clientKey } })
    assert.deepStrictEqual(agent.ca, [...Tls.rootCertificates, fileCa])
    assert.strictEqual(agent.cert, "CERT")
    assert.strictEqual(agent.key, Redacted.value(clientKey))
    assert.isFalse("passphrase" in agent)
  })

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
            Effect.provide(Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => void warnings.push(String(message)))))
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
