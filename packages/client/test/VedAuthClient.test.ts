import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Effect, Redacted } from "effect"
import { it as plain } from "vitest"
import { VedAuthClient, VedAuthClientError } from "../src/index.js"
import { clientOptions, serve, tempDir } from "./support.js"

// A client for the life of the test's scope.
const acquire = (options: ConstructorParameters<typeof VedAuthClient>[0]) =>
  Effect.acquireRelease(Effect.sync(() => new VedAuthClient(options)), (client) => Effect.promise(() => client.close()))

// The rejection of a call, which must be a VedAuthClientError.
const rejection = (call: () => Promise<unknown>) =>
  Effect.flip(Effect.tryPromise({ try: call, catch: (error) => error })).pipe(
    Effect.map((error) => {
      assert.instanceOf(error, VedAuthClientError)
      assert.instanceOf(error, Error)
      return error as VedAuthClientError
    })
  )

// Environment variables for the life of the scope, put back as they were after.
const withEnv = (variables: Record<string, string | undefined>) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const saved = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]))
      for (const [name, value] of Object.entries(variables)) set(name, value)
      return saved
    }),
    (saved) => Effect.sync(() => Object.entries(saved).forEach(([name, value]) => set(name, value)))
  )
const set = (name: string, value: string | undefined) => {
  if (value === undefined) delete process.env[name]
  else process.env[name] = value
}

describe("VedAuthClient", () => {
  it.scopedLive("accessToken and grant over HTTPS (caFile): the managed grant, stored and shared, its JSON and string without a token", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("vedauth-client-")
      const served = yield* serve(dir)
      const client = yield* acquire(clientOptions(served.url, dir))
      const token = yield* Effect.promise(() => client.accessToken())
      assert.isTrue(token.length > 0)
      assert.strictEqual(yield* Effect.promise(() => client.accessToken()), token)
      const grant = yield* Effect.promise(() => client.grant())
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.match(grant.identity, /^AD\+corp:/)
      assert.isTrue(grant.expiresAt > grant.issuedAt)
      for (const shown of [JSON.stringify(grant), String(grant), `${grant}`]) {
        assert.notInclude(shown, token)
        assert.include(shown, "certificate:manage")
      }
      // Another client (another process, say) on the same store: the stored grant, no authorize.
      const other = yield* acquire(clientOptions(served.url, dir))
      assert.strictEqual(yield* Effect.promise(() => other.accessToken()), token)
      assert.strictEqual((yield* served.simulator.stats).authorizeIntegrated, 1)
    }))

  it.scopedLive("fetch: the platform's Response with the bearer token; a revoked token is renewed once and the request sent again", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("vedauth-client-fetch-")
      // Plain HTTP on loopback: the platform's fetch does not take the simulator's throwaway CA.
      const served = yield* serve(dir, "http")
      const client = yield* acquire(clientOptions(served.url, dir))
      const first = yield* Effect.promise(() => client.fetch("vedsdk/certificates/"))
      assert.instanceOf(first, Response)
      assert.strictEqual(first.status, 200)
      assert.deepStrictEqual(yield* Effect.promise(() => first.json()), { Certificates: [], TotalCount: 0 })
      // The token dies behind the client's back (revoked by someone else).
      const token = yield* Effect.promise(() => client.accessToken())
      const revoked = yield* Effect.promise(() =>
        fetch(`${served.url}/vedauth/revoke/token`, { headers: { authorization: `Bearer ${token}` } })
      )
      assert.strictEqual(revoked.status, 200)
      const before = yield* served.simulator.stats
      const second = yield* Effect.promise(() =>
        client.fetch(new URL("/vedsdk/certificates/", served.url), { headers: { accept: "application/json" } })
      )
      assert.strictEqual(second.status, 200)
      const after = yield* served.simulator.stats
      // One refused call, one renewal (the refresh token died with the grant: authorized again), one retry.
      assert.strictEqual(after.resources - before.resources, 2)
      assert.strictEqual(after.authorizeIntegrated - before.authorizeIntegrated, 1)
      assert.notStrictEqual(yield* Effect.promise(() => client.accessToken()), token)
      // A scope the grant lacks: the 403 rejects with InsufficientScope, the server's status with it.
      const refused = yield* rejection(() => client.fetch("vedsdk/certificates/revoke", { method: "POST", body: "{}" }))
      assert.strictEqual(refused._tag, "InsufficientScope")
      assert.strictEqual(refused.status, 403)
    }))

  it.scopedLive("fetch sends the token to the server's origin only", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("vedauth-client-origin-")
      const served = yield* serve(dir, "http")
      let called = 0
      const client = yield* acquire({
        ...clientOptions(served.url, dir),
        fetch: () => (called++, Promise.resolve(new Response("no")))
      })
      const error = yield* rejection(() => client.fetch("https://elsewhere.example/steal"))
      assert.strictEqual(error._tag, "InvalidArgument")
      assert.strictEqual(called, 0)
    }))

  it.scopedLive("revoke: the server revokes the stored grant, then there is nothing stored", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("vedauth-client-revoke-")
      const served = yield* serve(dir)
      const client = yield* acquire(clientOptions(served.url, dir))
      yield* Effect.promise(() => client.accessToken())
      assert.strictEqual((yield* Effect.promise(() => client.revoke())).outcome, "Revoked")
      assert.strictEqual((yield* served.simulator.stats).liveGrants, 0)
      assert.strictEqual((yield* Effect.promise(() => client.revoke())).outcome, "NothingStored")
    }))

  it.scopedLive("a refused password rejects with AuthenticationFailed, the server's status, and no password", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("vedauth-client-refused-")
      const served = yield* serve(dir)
      const client = yield* acquire({ ...clientOptions(served.url, dir), password: "wrong-password-1234" })
      const error = yield* rejection(() => client.accessToken())
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.strictEqual(error.status, 401)
      assert.strictEqual(error.name, "VedAuthClientError")
      assert.notInclude(`${error.message} ${JSON.stringify(error)} ${error.stack}`, "wrong-password-1234")
    }))

  it.scopedLive("an aborted signal interrupts the call: Aborted, before or while it runs", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("vedauth-client-abort-")
      const served = yield* serve(dir)
      const client = yield* acquire(clientOptions(served.url, dir))
      assert.strictEqual((yield* rejection(() => client.accessToken({ signal: AbortSignal.abort() })))._tag, "Aborted")
      // A server that never answers: only the abort ends the call.
      yield* served.simulator.setFaults({ delay: "1 hour" })
      const controller = new AbortController()
      const pending = client.grant({ signal: controller.signal })
      controller.abort()
      assert.strictEqual((yield* rejection(() => pending))._tag, "Aborted")
      assert.strictEqual(
        (yield* rejection(() => client.fetch("vedsdk/certificates/", { signal: AbortSignal.abort() })))._tag,
        "Aborted"
      )
    }))

  it.scopedLive("close and Symbol.asyncDispose: later calls reject with Closed", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("vedauth-client-close-")
      const served = yield* serve(dir)
      const client = new VedAuthClient(clientOptions(served.url, dir))
      yield* Effect.promise(() => client.accessToken())
      // A call in flight when the client closes (the server never answers) ends with it.
      yield* served.simulator.setFaults({ delay: "1 hour" })
      const pending = client.fetch("vedsdk/certificates/")
      yield* Effect.promise(() => client[Symbol.asyncDispose]())
      assert.strictEqual((yield* rejection(() => pending))._tag, "Closed")
      assert.strictEqual((yield* rejection(() => client.accessToken()))._tag, "Closed")
      yield* Effect.promise(() => client.close())
    }))

  it.scopedLive("fromEnv reads the VEDAUTH_* variables of NodeVedAuth.layerConfig; a missing one is a ConfigError", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir("vedauth-client-env-")
      const served = yield* serve(dir)
      yield* withEnv({
        VEDAUTH_URL: served.url,
        VEDAUTH_CLIENT_ID: Simulator.defaultClientId,
        VEDAUTH_SCOPE: "certificate:manage",
        VEDAUTH_USERNAME: `${Simulator.defaultCredentials.domain}\\${Simulator.defaultCredentials.username}`,
        VEDAUTH_PASSWORD: Redacted.value(Simulator.defaultCredentials.password),
        VEDAUTH_CA_FILE: `${dir}/ca.pem`,
        VEDAUTH_TOKEN_STORE: `${dir}/tokens.json`
      })
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => VedAuthClient.fromEnv()),
        (client) => Effect.promise(() => client.close())
      )
      assert.strictEqual((yield* Effect.promise(() => client.grant())).scope, "certificate:manage")
      yield* withEnv({ VEDAUTH_URL: undefined, VEDAUTH_TOKEN_STORE: `${dir}/other.json` })
      const unset = yield* Effect.acquireRelease(
        Effect.sync(() => VedAuthClient.fromEnv()),
        (client) => Effect.promise(() => client.close())
      )
      const error = yield* rejection(() => unset.accessToken())
      assert.strictEqual(error._tag, "ConfigError")
      assert.include(error.message, "VEDAUTH_URL")
    }))

  plain("options that cannot be used throw InvalidArgument at once", () => {
    for (
      const options of [{}, { url: "https://tpp.example", clientId: "app", scope: "" }, {
        url: "https://tpp.example",
        clientId: "app",
        scope: "s",
        grant: "jwt"
      }]
    ) {
      assert.throws(() => new VedAuthClient(options as never), VedAuthClientError, /InvalidArgument/)
    }
  })
})
