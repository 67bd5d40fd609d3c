/**
 * Fault injection through the simulator on a real socket, at each step of each flow, with the real
 * Node client (NodeVedAuth: NodeNtlmTransport, node:http client, file token store). Each fault must
 * end in its typed error, carry no secret, and never make the client spend a refresh token twice.
 */
import { assert, describe, it } from "@effect/vitest"
import * as VedAuth from "@vedauth/core/VedAuth"
import type { VedAuthError } from "@vedauth/core/VedAuthError"
import { Cause, Effect, Exit, Fiber, Option, Ref, TestClock } from "effect"
import type * as Simulator from "../../src/Simulator.js"
import { answer, type Faulty, isEndpoint, leaked, nodeClient, renderings, serveFaulty, tempDir } from "./support.js"

type Flow = "authorize" | "refresh" | "verify" | "revoke"

const endpointOf: Record<Flow, string> = {
  authorize: "authorize/integrated",
  refresh: "authorize/token",
  verify: "authorize/verify",
  revoke: "revoke/token"
}

interface Case {
  readonly name: string
  readonly inject: (faulty: Faulty, flow: Flow) => Effect.Effect<void>
  readonly expect: Partial<Record<Flow, VedAuthError["_tag"]>>
  readonly status?: number
}

/** Rewrites only the successful answer of the flow's own endpoint: the fault hits after the work is done. */
const onAnswer = (change: (response: Simulator.Response) => Simulator.Response) => (faulty: Faulty, flow: Flow) =>
  Ref.set(
    faulty.rewrite,
    (request, response) => isEndpoint(request, endpointOf[flow]) && response.status < 300 ? change(response) : undefined
  )

const simulatorFault = (faults: Simulator.Faults) => (faulty: Faulty) => faulty.simulator.setFaults(faults)

const html = "<html><body>The service is unavailable.</body></html>"

const cases: ReadonlyArray<Case> = [
  {
    name: "connection closed after NEGOTIATE, unanswered",
    inject: simulatorFault({ dropAfterNegotiate: true }),
    expect: { authorize: "TransportError" }
  },
  {
    name: "connection closed after the CHALLENGE",
    inject: simulatorFault({ closeAfterNegotiate: true }),
    expect: { authorize: "NtlmProtocolError" }
  },
  {
    name: "malformed CHALLENGE",
    inject: simulatorFault({ malformedChallenge: true }),
    expect: { authorize: "NtlmProtocolError" }
  },
  ...[500, 502, 503].map((status): Case => ({
    name: `HTTP ${status} on every request`,
    inject: simulatorFault({ serverError: status }),
    // On authorize the NEGOTIATE itself is refused, before any challenge.
    expect: {
      authorize: "NtlmProtocolError",
      refresh: "UnexpectedResponse",
      verify: "UnexpectedResponse",
      revoke: "UnexpectedResponse"
    },
    status
  })),
  ...[500, 502, 503].map((status): Case => ({
    name: `HTTP ${status} in place of the answer (after the server did the work)`,
    inject: onAnswer(() => answer(status, "Server Error", html, "text/html")),
    expect: {
      authorize: "UnexpectedResponse",
      refresh: "UnexpectedResponse",
      verify: "UnexpectedResponse",
      revoke: "UnexpectedResponse"
    },
    status
  })),
  {
    name: "connection closed without an answer",
    inject: onAnswer((response) => ({ ...response, connection: "drop" })),
    expect: {
      authorize: "TransportError",
      refresh: "TransportError",
      verify: "TransportError",
      revoke: "TransportError"
    }
  },
  {
    name: "connection lost mid-body",
    inject: onAnswer((response) => ({ ...response, connection: "truncate" })),
    expect: { authorize: "TransportError", refresh: "TransportError", verify: "TransportError" }
  },
  {
    name: "HTML instead of JSON (simulator fault)",
    inject: simulatorFault({ nonJsonBody: true }),
    expect: { authorize: "UnexpectedResponse", refresh: "UnexpectedResponse" }
  },
  {
    name: "non-JSON body under a JSON content type",
    inject: onAnswer(() => answer(200, "OK", html)),
    expect: { authorize: "UnexpectedResponse", refresh: "UnexpectedResponse", verify: "UnexpectedResponse" }
  },
  {
    name: "truncated JSON body, framing intact",
    inject: onAnswer((response) => answer(200, "OK", response.body.subarray(0, Math.floor(response.body.length / 2)))),
    expect: { authorize: "UnexpectedResponse", refresh: "UnexpectedResponse", verify: "UnexpectedResponse" }
  },
  {
    name: "JSON of the wrong shape",
    inject: onAnswer(() => answer(200, "OK", JSON.stringify({ access_token: 42, valid_for: "soon", expires: [] }))),
    expect: { authorize: "UnexpectedResponse", refresh: "UnexpectedResponse", verify: "UnexpectedResponse" }
  },
  {
    name: "an empty body",
    inject: onAnswer(() => answer(200, "OK", "")),
    expect: { authorize: "UnexpectedResponse", refresh: "UnexpectedResponse", verify: "UnexpectedResponse" }
  },
  {
    // The NTLM transport caps bodies (64 KiB here); the plain client reads them and refuses the content.
    name: "a huge body (1 MiB)",
    inject: onAnswer(() => answer(200, "OK", new Uint8Array(1024 * 1024).fill(0x7b))),
    expect: { authorize: "TransportError", refresh: "UnexpectedResponse", verify: "UnexpectedResponse" }
  }
]

const assertNoSecret = (faulty: Faulty, cause: Cause.Cause<unknown>) => {
  const shown = [Cause.pretty(cause), ...Cause.failures(cause).pipe((chunk) => Array.from(chunk)).flatMap(renderings)]
    .join("\n")
  assert.deepStrictEqual(leaked(shown, faulty.secrets()), [], "a secret appears in the error")
}

const noRefreshTokenTwice = (faulty: Faulty) =>
  assert.strictEqual(
    new Set(faulty.refreshTokensSent).size,
    faulty.refreshTokensSent.length,
    "a refresh token was sent twice"
  )

describe("fault injection over a real socket", () => {
  for (const flow of ["authorize", "refresh", "verify", "revoke"] as const) {
    for (const testCase of cases) {
      const expected = testCase.expect[flow]
      if (expected === undefined) continue
      it.scoped(`${flow}: ${testCase.name} -> ${expected}`, () =>
        Effect.gen(function*() {
          const faulty = yield* serveFaulty()
          const dir = yield* tempDir
          const exit = yield* Effect.gen(function*() {
            const grant = flow === "authorize" ? undefined : yield* VedAuth.authorize()
            yield* testCase.inject(faulty, flow)
            if (grant === undefined) return yield* Effect.asVoid(VedAuth.authorize())
            if (flow === "refresh") return yield* Effect.asVoid(VedAuth.refresh(grant))
            if (flow === "verify") return yield* Effect.asVoid(VedAuth.verify(grant.accessToken))
            return yield* Effect.asVoid(VedAuth.revoke(grant))
          }).pipe(Effect.provide(nodeClient(faulty.url, dir)), Effect.exit)
          assert.isTrue(Exit.isFailure(exit), "the fault went unnoticed")
          if (Exit.isFailure(exit)) {
            const error = Cause.failureOption(exit.cause)
            assert.isTrue(Option.isSome(error), `not a typed failure: ${Cause.pretty(exit.cause)}`)
            const failure = Option.getOrThrow(error) as { readonly _tag: string; readonly status?: number }
            assert.strictEqual(failure._tag, expected, Cause.pretty(exit.cause))
            if (testCase.status !== undefined) assert.strictEqual(failure.status, testCase.status)
            assertNoSecret(faulty, exit.cause)
          }
          noRefreshTokenTwice(faulty)
        }))
    }
  }

  it.scoped("valid JSON under a wrong content type is still read (IIS may label it text/plain)", () =>
    Effect.gen(function*() {
      const faulty = yield* serveFaulty()
      const dir = yield* tempDir
      yield* Ref.set(
        faulty.rewrite,
        (request, response) =>
          response.status === 200 && !isEndpoint(request, "authorize/isauthserver")
            ? { ...response, headers: { ...response.headers, "content-type": "text/plain" } }
            : undefined
      )
      const info = yield* Effect.gen(function*() {
        const grant = yield* VedAuth.authorize()
        const renewed = yield* VedAuth.refresh(grant)
        return yield* VedAuth.verify(renewed.accessToken)
      }).pipe(Effect.provide(nodeClient(faulty.url, dir)))
      assert.strictEqual(info.application, "vedauth-demo")
    }))

  it.scoped("a server slower than the response timeout: authorize fails with TransportError, on Effect's clock", () =>
    Effect.gen(function*() {
      const faulty = yield* serveFaulty({ faults: { delay: "1 minute" } })
      const dir = yield* tempDir
      const fiber = yield* Effect.fork(
        Effect.exit(VedAuth.authorize().pipe(Effect.provide(nodeClient(faulty.url, dir))))
      )
      // Wait (on I/O, not on time) until the NEGOTIATE has reached the server and is being held.
      for (let i = 0; i < 10_000 && (yield* faulty.simulator.stats).requests === 0; i++) {
        yield* Effect.async<void>((resume) => void setImmediate(() => resume(Effect.void)))
      }
      yield* TestClock.adjust("3 seconds")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) {
        const error = Option.getOrThrow(Cause.failureOption(exit.cause))
        assert.strictEqual(error._tag, "TransportError")
        assert.include(error.message, "no response within 2s")
      }
    }))

  it.scoped("renewals never resend a refresh token the server already rotated", () =>
    Effect.gen(function*() {
      const faulty = yield* serveFaulty()
      const dir = yield* tempDir
      yield* Effect.gen(function*() {
        for (let round = 0; round < 4; round++) {
          yield* VedAuth.accessToken
          // Into the refresh window of the one-hour token (the simulator runs on the same clock).
          yield* TestClock.adjust("58 minutes")
        }
      }).pipe(Effect.provide(nodeClient(faulty.url, dir)))
      const stats = yield* faulty.simulator.stats
      assert.strictEqual(stats.authorizeIntegrated, 1)
      assert.strictEqual(stats.refresh, 3)
      noRefreshTokenTwice(faulty)
    }))

  it.scoped("a refresh whose answer is lost: no automatic retry; the token was marked spent before it was sent, so the next call authorizes again", () =>
    Effect.gen(function*() {
      const faulty = yield* serveFaulty()
      const dir = yield* tempDir
      const layer = nodeClient(faulty.url, dir)
      yield* Effect.provide(VedAuth.accessToken, layer)
      yield* TestClock.adjust("58 minutes")
      yield* Ref.set(
        faulty.rewrite,
        (request, response) =>
          isEndpoint(request, "authorize/token") && response.status === 200
            ? { ...response, connection: "truncate" }
            : undefined
      )
      const lost = yield* Effect.either(Effect.provide(VedAuth.accessToken, layer))
      assert.strictEqual(lost._tag === "Left" ? lost.left._tag : "Right", "TransportError")
      // The server rotated the token, the client never learnt the new pair: exactly one attempt.
      assert.strictEqual(faulty.refreshTokensSent.length, 1)
      yield* Ref.set(faulty.rewrite, undefined)
      const token = yield* Effect.provide(VedAuth.accessToken, layer)
      // The client cannot know whether the lost refresh was spent, and never sends a refresh token
      // twice: the store marked it spent before it left, so the next call authorizes afresh.
      assert.strictEqual(faulty.refreshTokensSent.length, 1)
      const stats = yield* faulty.simulator.stats
      assert.strictEqual(stats.authorizeIntegrated, 2)
      const info = yield* Effect.provide(VedAuth.verify(token), layer)
      assert.strictEqual(info.application, "vedauth-demo")
    }))
})
