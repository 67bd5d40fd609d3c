/**
 * Every grant of core's `VedAuth.Options.credentials` against the simulator in memory: the grant
 * itself, each documented refusal as its tagged error, and the managed token re-authorizing with
 * the configured grant when the grant ends.
 */
import type { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import type { VedAuthError } from "@vedauth/core"
import { Credentials, TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { Deferred, Effect, Exit, Fiber, Layer, Redacted, TestClock } from "effect"
import * as Simulator from "../src/Simulator.js"

const base: VedAuth.Options = {
  url: "https://tpp.example",
  clientId: Simulator.defaultClientId,
  scope: "certificate:manage"
}

const layer = (
  vedAuth: VedAuth.Options,
  simulator: Simulator.Options = {},
  http: Layer.Layer<HttpClient.HttpClient, never, Simulator.Simulator> = Simulator.layerHttpClient
) =>
  VedAuth.layer(vedAuth).pipe(
    Layer.provideMerge(Layer.mergeAll(Simulator.layerNtlmTransport, http, TokenStore.layerMemory)),
    Layer.provideMerge(Simulator.layer(simulator))
  )

const tag = <A, E extends { readonly _tag: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.flip(effect), (error) => error._tag)

describe("the password grant (authorize/oauth)", () => {
  const password: VedAuth.Options = {
    ...base,
    credentials: Credentials.password,
    username: "CORP\\alice",
    password: Simulator.defaultCredentials.password
  }

  it.effect("authorizes, and the managed token re-authorizes by password when the grant ends", () =>
    Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      assert.strictEqual(grant.identity, "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}")
      yield* VedAuth.accessToken
      yield* TestClock.adjust("25 hours")
      yield* VedAuth.accessToken
      const stats = yield* Simulator.stats
      assert.deepStrictEqual([stats.authorizeOauth, stats.authorizeIntegrated, stats.handshakesCompleted], [3, 0, 0])
    }).pipe(Effect.provide(layer(password))))

  it.effect("a wrong password is InvalidGrant, keeping the server's description", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "InvalidGrant")
      assert.include(error.message, "Username or password is invalid")
      assert.notInclude(error.message, "nope")
    }).pipe(Effect.provide(layer({ ...password, password: Redacted.make("nope") }))))

  it.effect("disabled for the integration is InvalidClient; a user not allowed is UnauthorizedClient; too wide a scope InvalidScope", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tag(VedAuth.authorize()), "InvalidClient")
      assert.strictEqual(yield* tag(VedAuth.authorize({ clientId: "bob-only" })), "UnauthorizedClient")
      assert.strictEqual(yield* tag(VedAuth.authorize({ clientId: "bob-only", scope: "admin" })), "UnauthorizedClient")
    }).pipe(Effect.provide(layer(password, {
      integrations: [
        { clientId: "vedauth-demo", grantTypes: ["integrated"] },
        { clientId: "bob-only", users: ["bob"] }
      ]
    }))))

  it.effect("a scope beyond the integration's is InvalidScope; no password configured is AuthenticationFailed before any request", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tag(VedAuth.authorize({ scope: "admin:delete" })), "InvalidScope")
    }).pipe(Effect.provide(layer(password))))

  it.effect("no password configured: AuthenticationFailed, nothing sent", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* tag(VedAuth.accessToken), "AuthenticationFailed")
      assert.strictEqual((yield* Simulator.stats).authorizeOauth, 0)
    }).pipe(Effect.provide(layer({ ...base, credentials: Credentials.password, username: "CORP\\alice" }))))
})

describe("the JWT grant (authorize/jwt)", () => {
  const claims = (overrides: Record<string, unknown> = {}) => ({
    iss: "https://kubernetes.default.svc",
    aud: ["vedauth"],
    sub: "CORP\\alice",
    exp: 3600,
    ...overrides
  })
  // A JWT minted by the simulator's issuer at each authorize, as a projected token is rewritten.
  const minted =
    (overrides: Record<string, unknown> = {}, reads?: { count: number }) => (simulator: Simulator.Service) =>
      Credentials.jwt(Effect.suspend(() => {
        if (reads !== undefined) reads.count++
        return Effect.map(simulator.signJwt(claims(overrides)), Redacted.make)
      }))

  // Runs `effect` against a simulator whose issuer the credentials can reach.
  const withJwt = <A, E>(
    effect: Effect.Effect<A, E, VedAuth.VedAuth | Simulator.Simulator>,
    credentials: (simulator: Simulator.Service) => Credentials.Credentials,
    options: Simulator.Options = {}
  ) =>
    Effect.flatMap(Simulator.make(options), (simulator) =>
      Effect.provide(
        effect,
        VedAuth.layer({ ...base, credentials: credentials(simulator) }).pipe(
          Layer.provideMerge(
            Layer.mergeAll(Simulator.layerNtlmTransport, Simulator.layerHttpClient, TokenStore.layerMemory)
          ),
          Layer.provideMerge(Layer.succeed(Simulator.Simulator, simulator))
        )
      ))

  it.effect("a signed JWT is a grant for its subject; the JWT is read anew at each authorize", () => {
    const reads = { count: 0 }
    return withJwt(
      Effect.gen(function*() {
        const grant = yield* VedAuth.authorize()
        assert.strictEqual(grant.identity, "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}")
        yield* VedAuth.authorize()
        assert.strictEqual(reads.count, 2)
        assert.strictEqual((yield* Simulator.stats).authorizeJwt, 2)
      }),
      minted({}, reads)
    )
  })

  it.effect("expired, wrong audience, wrong issuer, bad signature: InvalidGrant with the reason", () =>
    Effect.gen(function*() {
      for (
        const [overrides, why] of [
          [{ exp: 0 }, "expired"],
          [{ aud: "someone-else" }, "audience"],
          [{ iss: "https://evil.example" }, "issuer"]
        ] as const
      ) {
        const error = yield* Effect.flip(withJwt(VedAuth.authorize(), minted(overrides)))
        assert.strictEqual(error._tag, "InvalidGrant")
        assert.include(error.message, why)
      }
      const forged = () =>
        Credentials.jwt(Effect.flatMap(Simulator.make(), (other) => Effect.map(other.signJwt(claims()), Redacted.make)))
      const error = yield* Effect.flip(withJwt(VedAuth.authorize(), forged))
      assert.include(error.message, "signature")
      const garbage = yield* Effect.flip(
        withJwt(VedAuth.authorize(), () => Credentials.jwt(Effect.succeed(Redacted.make("not.a.jwt"))))
      )
      assert.strictEqual(garbage._tag, "InvalidGrant")
    }))

  it.effect("a subject no user matches is UnhandledIdentityClaim; the JWT never appears in the error", () =>
    Effect.gen(function*() {
      let sent = ""
      const credentials = (simulator: Simulator.Service) =>
        Credentials.jwt(Effect.map(simulator.signJwt(claims({ sub: "CORP\\mallory" })), (jwt) => {
          sent = jwt
          return Redacted.make(jwt)
        }))
      const error = yield* Effect.flip(withJwt(VedAuth.authorize(), credentials))
      assert.strictEqual(error._tag, "UnhandledIdentityClaim")
      assert.isNotEmpty(sent)
      assert.notInclude(JSON.stringify(error), sent)
    }))

  it.effect("disabled for the integration is InvalidClient; a JWT file without TokenStoreFiles is AuthenticationFailed", () =>
    Effect.gen(function*() {
      const disabled = yield* tag(
        withJwt(VedAuth.authorize(), minted(), { integrations: [{ clientId: "vedauth-demo", grantTypes: ["oauth"] }] })
      )
      assert.strictEqual(disabled, "InvalidClient")
      const error = yield* Effect.flip(withJwt(VedAuth.authorize(), () => Credentials.jwtFile("/nonexistent/token")))
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "TokenStoreFiles")
    }))
})

describe("the certificate grant (authorize/certificate)", () => {
  const certificate: VedAuth.Options = { ...base, credentials: Credentials.certificate }
  const presenting = (commonName: string | undefined, altNames: ReadonlyArray<string> = []) =>
    Simulator.layerHttpClientPresenting({ commonName, altNames })

  it.effect("the CN names the user", () =>
    Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      assert.strictEqual(grant.identity, "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}")
    }).pipe(Effect.provide(layer(certificate, {}, presenting("alice")))))

  it.effect("a SAN names the user when the CN does not", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* VedAuth.authorize()).identity, "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}")
    }).pipe(Effect.provide(layer(certificate, {}, presenting("host.example", ["alice@corp"])))))

  it.effect("no client certificate is InvalidGrant; one no user matches is UnhandledIdentityClaim", () =>
    Effect.gen(function*() {
      const none = yield* Effect.flip(Effect.provide(VedAuth.authorize(), layer(certificate)))
      assert.strictEqual(none._tag, "InvalidGrant")
      assert.include(none.message, "client certificate")
      assert.strictEqual(
        yield* tag(Effect.provide(VedAuth.authorize(), layer(certificate, {}, presenting("mallory")))),
        "UnhandledIdentityClaim"
      )
    }))

  it.effect("the managed token re-authorizes by certificate after the grant ends", () =>
    Effect.gen(function*() {
      yield* VedAuth.accessToken
      yield* TestClock.adjust("25 hours")
      yield* VedAuth.accessToken
      assert.strictEqual((yield* Simulator.stats).authorizeCertificate, 2)
    }).pipe(Effect.provide(layer(certificate, {}, presenting("alice")))))
})

describe("the device flow (authorize/device, RFC 8628 polling)", () => {
  // The prompt hands the user code to the test, which plays the person.
  const deviceLayer = (prompts: Deferred.Deferred<Credentials.DevicePrompt>, simulator: Simulator.Options = {}) =>
    layer({ ...base, credentials: Credentials.device((prompt) => Deferred.succeed(prompts, prompt)) }, simulator)
  // Starts an authorize in a fiber, waits for its prompt, then hands both to the test (the person).
  const withDevice = <A, E>(
    person: (
      authorize: Fiber.RuntimeFiber<unknown, VedAuthError.VedAuthError>,
      prompt: Credentials.DevicePrompt
    ) => Effect.Effect<A, E, VedAuth.VedAuth | Simulator.Simulator>,
    simulator: Simulator.Options = {},
    start: Effect.Effect<unknown, VedAuthError.VedAuthError, VedAuth.VedAuth> = VedAuth.authorize()
  ) =>
    Effect.flatMap(Deferred.make<Credentials.DevicePrompt>(), (prompts) =>
      Effect.gen(function*() {
        const fiber = yield* Effect.fork(start)
        return yield* person(fiber, yield* Deferred.await(prompts))
      }).pipe(Effect.provide(deviceLayer(prompts, simulator))))

  it.effect("shows the code and URI, polls every interval while pending, and gets the grant once approved", () =>
    withDevice(
      (fiber, prompt) =>
        Effect.gen(function*() {
          assert.match(prompt.userCode, /^[A-Z]{4}-[A-Z]{4}$/)
          assert.include(prompt.verificationUri, "/vedauth/device")
          yield* TestClock.adjust("15 seconds")
          assert.strictEqual((yield* Simulator.stats).devicePoll, 3)
          const simulator = yield* Simulator.Simulator
          assert.isTrue(yield* simulator.approveDevice(prompt.userCode))
          yield* TestClock.adjust("5 seconds")
          const token = (yield* Fiber.join(fiber)) as Redacted.Redacted<string>
          const info = yield* VedAuth.verify(token)
          assert.strictEqual(info.identity, "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}")
          assert.strictEqual((yield* Simulator.stats).devicePoll, 4)
        }),
      {},
      VedAuth.accessToken
    ))

  it.effect("slow_down adds 5 seconds to the interval", () =>
    withDevice((fiber) =>
      Effect.gen(function*() {
        yield* TestClock.adjust("5 seconds") // poll 1: slow_down, next in 10 s
        yield* TestClock.adjust("9 seconds")
        assert.strictEqual((yield* Simulator.stats).devicePoll, 1)
        yield* TestClock.adjust("1 second") // poll 2 (auto-approved)
        assert.strictEqual((yield* Simulator.stats).devicePoll, 2)
        yield* Fiber.join(fiber)
      }), { device: { slowDownPolls: 1, autoApproveAfterPolls: 1 } }))

  it.effect("access_denied is AuthenticationFailed", () =>
    withDevice((fiber, prompt) =>
      Effect.gen(function*() {
        yield* Effect.flatMap(Simulator.Simulator, (simulator) => simulator.denyDevice(prompt.userCode))
        yield* TestClock.adjust("5 seconds")
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag, "AuthenticationFailed")
        assert.include(error.message, "denied")
      })
    ))

  it.effect("expired_token (the code outlived) is InvalidGrant", () =>
    withDevice((fiber) =>
      Effect.gen(function*() {
        yield* TestClock.adjust("61 seconds")
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag, "InvalidGrant")
        assert.include(error.message, "expired")
      }), { device: { expiresIn: 60 } }))

  it.effect("interruptible: interrupting the wait stops the polling", () =>
    withDevice((fiber) =>
      Effect.gen(function*() {
        yield* TestClock.adjust("5 seconds")
        assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(fiber)))
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* Simulator.stats).devicePoll, 1)
      })
    ))

  it.effect("disabled for the integration is InvalidClient before any prompt", () =>
    Effect.gen(function*() {
      const prompts = yield* Deferred.make<Credentials.DevicePrompt>()
      const error = yield* Effect.flip(
        Effect.provide(
          VedAuth.authorize(),
          deviceLayer(prompts, { integrations: [{ clientId: "vedauth-demo", grantTypes: ["oauth"] }] })
        )
      )
      assert.strictEqual(error._tag, "InvalidClient")
      assert.isFalse(yield* Deferred.isDone(prompts))
    }))
})
