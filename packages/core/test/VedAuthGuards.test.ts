/**
 * What the layer and the flows refuse before anything unsafe happens: an empty password, a URL that
 * is not https (off loopback) or not a URL, an oversized answer on the NTLM path, an unusable grant.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, Redacted } from "effect"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { FakeServer, httpClientLayer, ntlmTransportLayer, ok } from "./fixtures/fakeVedAuth.js"
import { environment, setup } from "./fixtures/setup.js"

const layerFails = <A, E>(layer: Layer.Layer<A, E>) => Effect.flip(Effect.scoped(Layer.build(layer)))

describe("an empty password is a missing one, never sent", () => {
  for (
    const [name, password] of [
      ["an empty Redacted", Redacted.make("")],
      ["an effect that yields an empty Redacted", Effect.succeed(Redacted.make(""))]
    ] as const
  ) {
    it.effect(name, () => {
      const { layer, server } = setup(undefined, { password })
      return Effect.gen(function*() {
        const error = yield* Effect.flip(VedAuth.accessToken)
        assert.strictEqual(error._tag, "AuthenticationFailed")
        assert.include(error.message, "no Windows credentials")
        assert.strictEqual(server.counts.authorize, 0)
      }).pipe(Effect.provide(layer))
    })
  }

  it.effect("an empty VEDAUTH_PASSWORD", () => {
    const server = new FakeServer()
    const layer = VedAuth.layerConfig().pipe(
      Layer.provide(Layer.mergeAll(httpClientLayer(server), ntlmTransportLayer(server), TokenStore.layerMemory)),
      Layer.provide(environment({ VEDAUTH_PASSWORD: "" }))
    )
    return Effect.gen(function*() {
      assert.isUndefined((yield* VedAuth.VedAuth).options.password)
      assert.strictEqual((yield* Effect.flip(VedAuth.authorize()))._tag, "AuthenticationFailed")
      assert.strictEqual(server.counts.authorize, 0)
    }).pipe(Effect.provide(layer))
  })
})

describe("the server URL", () => {
  it.effect("plain http:// off loopback fails the layer; loopback and opting in do not", () =>
    Effect.gen(function*() {
      const refused = yield* layerFails(setup(undefined, { url: "http://tpp.example.test" }).layer)
      assert.strictEqual(refused._tag, "TransportError")
      assert.include(refused.message, "allowHttp")
      for (const url of ["http://127.0.0.1:8080", "http://127.9.9.9", "http://[::1]:8443", "http://localhost"]) {
        yield* Effect.scoped(Layer.build(setup(undefined, { url }).layer))
      }
      const warnings: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ message }) => void warnings.push(String(message)))
      )
      yield* Effect.scoped(Layer.build(setup(undefined, { url: "http://tpp.example.test", allowHttp: true }).layer))
        .pipe(Effect.provide(capture))
      assert.isTrue(warnings.some((line) => line.includes("unencrypted")), warnings.join("\n"))
    }))

  it.effect("VEDAUTH_ALLOW_HTTP=1 opts in from the environment", () => {
    const server = new FakeServer()
    const layer = VedAuth.layerConfig().pipe(
      Layer.provide(Layer.mergeAll(httpClientLayer(server), ntlmTransportLayer(server), TokenStore.layerMemory)),
      Layer.provide(environment({ VEDAUTH_URL: "http://tpp.example.test", VEDAUTH_ALLOW_HTTP: "1" }))
    )
    return Effect.map(VedAuth.VedAuth, (service) => assert.isTrue(service.options.allowHttp)).pipe(
      Effect.provide(layer)
    )
  })

  it.effect("not a URL, or not http(s): a TransportError from the layer", () =>
    Effect.gen(function*() {
      for (const url of ["tpp.example.test", "ftp://tpp.example.test", "https://"]) {
        const error = yield* layerFails(setup(undefined, { url }).layer)
        assert.strictEqual(error._tag, "TransportError", url)
      }
    }))
})

describe("answers on the NTLM path", () => {
  it.effect("a body over 1 MiB is UnexpectedResponse, however large the transport let it be", () => {
    const { layer } = setup((server) => {
      server.scripted.authorize.push(ok({ access_token: "a".repeat(10 * 1024 * 1024), expires_in: 60 }))
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "UnexpectedResponse")
      assert.include(error.message, "larger than 1048576 bytes")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a grant that has already expired is UnexpectedResponse, and is not stored", () => {
    const { layer } = setup((server) => {
      server.scripted.authorize.push(ok({ access_token: "a==", expires_in: 0 }))
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.login)
      assert.strictEqual(error._tag, "UnexpectedResponse")
      assert.isTrue((yield* VedAuth.stored)._tag === "None")
    }).pipe(Effect.provide(layer))
  })
})
