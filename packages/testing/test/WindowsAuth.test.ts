import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Ntlm, NtlmTransport, TokenStore, VedAuth } from "@vedauth/core"
import { Effect, Either, Exit, FastCheck as fc, Fiber, Redacted, TestClock } from "effect"
import * as Simulator from "../src/Simulator.js"
import { alice, call } from "./support.js"

const url = "https://tpp.example/vedauth/authorize/integrated"
const body = new TextEncoder().encode(JSON.stringify({ client_id: "vedauth-demo", scope: "certificate:manage" }))
const credentials = Simulator.defaultCredentials

const authorize = (password = credentials.password) =>
  Effect.flatMap(NtlmTransport.NtlmTransport, (transport) =>
    transport.request({
      method: "POST",
      url,
      headers: { "Content-Type": "application/json" },
      body,
      credentials: { ...credentials, password }
    }))

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64")

/** Runs a handshake by hand on one connection: NEGOTIATE, then AUTHENTICATE. */
const handshake = (simulator: Simulator.Service, connection: Simulator.Connection, password = credentials.password) =>
  Effect.gen(function*() {
    const negotiate = Ntlm.negotiate()
    const first = yield* call(simulator, "POST", "/vedauth/authorize/integrated", {
      connection,
      headers: { authorization: `NTLM ${b64(negotiate)}` }
    })
    const header = String(first.headers["www-authenticate"])
    const challenge = yield* Ntlm.parseChallenge(Buffer.from(header.split(" ")[1]!, "base64"))
    const authenticate = yield* Ntlm.authenticate({ negotiate, challenge, domain: "CORP", username: "alice", password })
    const authorization = `NTLM ${b64(authenticate)}`
    const second = yield* call(simulator, "POST", "/vedauth/authorize/integrated", {
      connection,
      headers: { authorization },
      body: JSON.parse(new TextDecoder().decode(body))
    })
    return { first, second, authorization }
  })

describe("Windows authentication", () => {
  it.effect("the in-memory NtlmTransport authorizes with real NTLM messages in two round trips", () =>
    Effect.gen(function*() {
      const response = yield* authorize()
      assert.strictEqual(response.status, 200)
      const grant = JSON.parse(new TextDecoder().decode(response.body))
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.strictEqual(grant.identity, "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}")
      const stats = yield* Simulator.stats
      assert.deepStrictEqual([stats.authorizeIntegrated, stats.handshakesCompleted, stats.connections], [1, 1, 1])
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [2])
    }).pipe(Effect.provide(Simulator.layerTest())))

  it.effect("a wrong password is refused with a bare scheme header and AuthenticationFailed, without the password in it", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(authorize(Redacted.make("Wr0ng-Passw0rd")))
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(authorize(Redacted.make("Wr0ng-Passw0rd")))
      assert.strictEqual(error._tag, "AuthenticationFailed")
      for (const text of [String(error), JSON.stringify(error), error.message]) {
        assert.notInclude(text, "Wr0ng-Passw0rd")
      }
      assert.deepStrictEqual((yield* Simulator.stats).rejections, { "bad-proof": 2 })
    }).pipe(Effect.provide(Simulator.layerTest())))

  it.effect("anonymous: 401 with one WWW-Authenticate per scheme; a server offering only Negotiate still works", () =>
    Effect.gen(function*() {
      const both = yield* Simulator.make()
      const anonymous = yield* call(both, "POST", "/vedauth/authorize/integrated", { body: {} })
      assert.strictEqual(anonymous.status, 401)
      assert.deepStrictEqual(anonymous.headers["www-authenticate"], ["Negotiate", "NTLM"])
      const negotiateOnly = yield* Simulator.make({ schemes: ["Negotiate"] })
      const response = yield* authorize().pipe(
        Effect.provide(Simulator.layerNtlmTransport),
        Effect.provideService(Simulator.Simulator, negotiateOnly)
      )
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual((yield* negotiateOnly.stats).roundTripsPerHandshake, [3])
    }))

  it.effect("the in-memory transport runs core's handshake: a server offering no NTLM scheme is named in the error", () =>
    Effect.gen(function*() {
      const none = yield* Simulator.make({ schemes: [] })
      const error = yield* Effect.flip(
        authorize().pipe(
          Effect.provide(Simulator.layerNtlmTransport),
          Effect.provideService(Simulator.Simulator, none)
        )
      )
      assert.strictEqual(error._tag, "NtlmProtocolError")
      assert.include(error.message, "offers no NTLM authentication (WWW-Authenticate: none)")
    }))

  it.effect("an authenticated connection stays authenticated; the challenge is single-use; replays are refused", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make()
      const connection = yield* simulator.connect()
      const { first, second, authorization } = yield* handshake(simulator, connection)
      assert.strictEqual(first.status, 401)
      assert.strictEqual(second.status, 200)
      const later = yield* call(simulator, "POST", "/vedauth/authorize/integrated", {
        connection,
        body: { client_id: "vedauth-demo", scope: "configuration:manage" }
      })
      assert.strictEqual(later.status, 200)
      // The same AUTHENTICATE again: its challenge is spent, on this connection or any other.
      const replay = yield* call(simulator, "POST", "/vedauth/authorize/integrated", {
        connection,
        headers: { authorization },
        body: {}
      })
      assert.deepStrictEqual([replay.status, replay.headers["www-authenticate"]], [401, ["NTLM"]])
      const elsewhere = yield* call(simulator, "POST", "/vedauth/authorize/integrated", {
        headers: { authorization },
        body: {}
      })
      assert.deepStrictEqual([elsewhere.status, elsewhere.headers["www-authenticate"]], [401, ["NTLM"]])
      assert.deepStrictEqual((yield* simulator.stats).rejections, { "no-challenge": 2 })
    }))

  it.effect("garbage Authorization headers get a documented 401, never a 5xx", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make()
      for (
        const authorization of [
          "NTLM",
          "NTLM !!!",
          "NTLM AAAA",
          `NTLM ${b64(new TextEncoder().encode("NTLMSSP\0\u0003\0\0\0garbage"))}`,
          "Basic YWxpY2U6eA==",
          "Bearer x"
        ]
      ) {
        const answer = yield* call(simulator, "POST", "/vedauth/authorize/integrated", {
          headers: { authorization },
          body: alice
        })
        assert.strictEqual(answer.status, 401, authorization)
      }
      yield* Effect.sync(() =>
        fc.assert(
          fc.asyncProperty(
            fc.string(),
            fc.uint8Array({ maxLength: 300 }),
            fc.constantFrom("NTLM", "Negotiate", "ntlm"),
            async (path, bytes, scheme) => {
              const answers = await Effect.runPromise(Effect.all([
                call(simulator, "POST", "/vedauth/authorize/integrated", {
                  headers: { authorization: `${scheme} ${b64(bytes)}` },
                  raw: bytes
                }),
                call(simulator, "POST", "/vedauth/authorize/oauth", { raw: bytes }),
                call(simulator, "POST", "/vedauth/authorize/token", { raw: bytes }),
                call(simulator, "GET", `/vedauth/${path}`, { headers: { authorization: `Bearer ${path}` } })
              ]))
              for (const answer of answers) {
                assert.isTrue(answer.status >= 400 && answer.status < 500, `${answer.status}`)
              }
            }
          ),
          { numRuns: 200 }
        )
      ).pipe(Effect.asVoid)
    }))
})

describe("fault injection", () => {
  it.effect("malformed challenge or close after NEGOTIATE: protocol errors; a drop: a transport error, as on a socket", () =>
    Effect.gen(function*() {
      yield* Simulator.setFaults({ malformedChallenge: true })
      assert.strictEqual((yield* Effect.flip(authorize()))._tag, "NtlmProtocolError")
      yield* Simulator.setFaults({ closeAfterNegotiate: true })
      assert.strictEqual((yield* Effect.flip(authorize()))._tag, "NtlmProtocolError")
      yield* Simulator.setFaults({ dropAfterNegotiate: true })
      assert.strictEqual((yield* Effect.flip(authorize()))._tag, "TransportError")
      yield* Simulator.setFaults({})
      assert.strictEqual((yield* authorize()).status, 200)
    }).pipe(Effect.provide(Simulator.layerTest())))

  it.effect("5xx, a body that is not JSON, and a delay on the Clock, through the in-memory HttpClient", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const post = client.execute(
        HttpClientRequest.post("https://tpp.example/vedauth/authorize/oauth").pipe(
          HttpClientRequest.bodyUnsafeJson(alice)
        )
      )
      const ok = yield* post
      assert.strictEqual(ok.status, 200)
      // The reason phrase survives, read the way core reads it (into a refusal's `reason`).
      const refused = yield* Effect.flip(
        VedAuth.verify(Redacted.make("not-a-token")).pipe(
          Effect.provide(
            VedAuth.layer({ url: "https://tpp.example", clientId: "vedauth-demo", scope: "certificate:manage" })
          ),
          Effect.provide(TokenStore.layerMemory)
        )
      )
      assert.strictEqual(refused._tag === "InvalidToken" ? refused.reason : refused._tag, "Unauthorized")
      assert.match(((yield* ok.json) as { access_token: string }).access_token, /==$/)
      yield* Simulator.setFaults({ serverError: 503 })
      assert.strictEqual((yield* post).status, 503)
      yield* Simulator.setFaults({ nonJsonBody: true })
      const html = yield* post
      assert.strictEqual(html.status, 200)
      assert.isTrue(Either.isLeft(yield* Effect.either(html.json)))
      yield* Simulator.setFaults({ delay: "30 seconds" })
      const fiber = yield* Effect.fork(post)
      yield* TestClock.adjust("29 seconds")
      assert.isTrue((yield* Fiber.poll(fiber))._tag === "None")
      yield* TestClock.adjust("1 second")
      assert.strictEqual((yield* Fiber.join(fiber)).status, 200)
      assert.strictEqual((yield* Simulator.stats).injectedFaults, 1)
    }).pipe(Effect.provide(Simulator.layerTest())))

  it.effect("an oversized body gets 413 and the live grants never show a token", () =>
    Effect.gen(function*() {
      const simulator = yield* Simulator.make({ maxBodyBytes: 1024 })
      const big = yield* call(simulator, "POST", "/vedauth/authorize/oauth", { raw: "x".repeat(2048) })
      assert.strictEqual(big.status, 413)
      const grant = (yield* call(simulator, "POST", "/vedauth/authorize/oauth", { body: alice })).json
      const live = yield* simulator.grants
      assert.strictEqual(live.length, 1)
      assert.strictEqual(Redacted.value(live[0]!.accessToken), grant.access_token)
      for (const text of [String(live[0]!.accessToken), JSON.stringify(live), JSON.stringify(yield* simulator.stats)]) {
        assert.notInclude(text, grant.access_token)
        assert.notInclude(text, grant.refresh_token)
      }
    }))
})
