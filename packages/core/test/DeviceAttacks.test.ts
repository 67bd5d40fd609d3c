/**
 * Issue #21 R7: a hostile or careless server in the device flow. An `interval` of 0 (or negative, or
 * a fraction of a second) had the client poll it 150-186 times a second until the code expired; a
 * verification link on another host than the server (`https://tpp.example.com.login-venafi.evil/`,
 * `http://tpp.example.com@evil.example/`) was shown without a word. On the TestClock, in memory.
 */
import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Either, Fiber, Layer, Logger, LogLevel, TestClock } from "effect"
import * as Credentials from "../src/Credentials.js"
import * as grants from "../src/internal/grants.js"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { FakeServer, ntlmTransportLayer, ok, toResponse, url } from "./fixtures/fakeVedAuth.js"
import { options } from "./fixtures/setup.js"

const answer = (body: Record<string, unknown>) => ({ status: 200, reason: "OK", body: JSON.stringify(body) })
const device = (extra: Record<string, unknown>) => ({
  device_code: "device-code-c2VjcmV0==",
  user_code: "WDJB-MJHT",
  verification_uri: `${url}/vedauth/device`,
  expires_in: 600,
  ...extra
})

/** A server whose authorize/device answers `started`, and whose every poll is `authorization_pending`. */
const deviceServer = (started: Record<string, unknown>, polls: { count: number }) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request, requestUrl) =>
      Effect.sync(() => {
        const path = requestUrl.pathname.toLowerCase()
        if (path === "/vedauth/authorize/device") return toResponse(request, ok(started))
        if (path === "/vedauth/authorize/token") {
          polls.count++
          // A client polling flat out is stopped here, so that it fails the test rather than hang it.
          const error = polls.count > 50 ? "access_denied" : "authorization_pending"
          return toResponse(request, { status: 400, reason: "Bad Request", body: JSON.stringify({ error }) })
        }
        return toResponse(request, { status: 404, reason: "Not Found", body: "" })
      })
    )
  )

/** Starts a device authorize against `started`; hands back the poll count, the warnings logged and the fiber, once the person was prompted. */
const deviceLogin = (started: Record<string, unknown>) =>
  Effect.gen(function*() {
    const polls = { count: 0 }
    const warnings: Array<string> = []
    const prompted = yield* Deferred.make<Credentials.DevicePrompt>()
    const layer = VedAuth.layer({
      url,
      clientId: options.clientId,
      scope: options.scope,
      credentials: Credentials.device((prompt) => Deferred.succeed(prompted, prompt))
    }).pipe(
      Layer.provide(
        Layer.mergeAll(deviceServer(started, polls), ntlmTransportLayer(new FakeServer()), TokenStore.layerMemory)
      )
    )
    const capture = Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => void (logLevel === LogLevel.Warning && warnings.push(String(message))))
    )
    const fiber = yield* Effect.fork(VedAuth.authorize().pipe(Effect.provide(Layer.merge(layer, capture))))
    yield* Deferred.await(prompted)
    return { polls, warnings, fiber }
  })

describe("R7: the device flow's interval", () => {
  it.effect("interval 0 (the attack: 150-186 polls a second): the client waits RFC 8628's default of 5 seconds between polls", () =>
    Effect.gen(function*() {
      const { fiber, polls } = yield* deviceLogin(device({ interval: 0 }))
      yield* TestClock.adjust("4999 millis")
      assert.strictEqual(polls.count, 0, "no poll before 5 seconds")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(polls.count, 1)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual(polls.count, 3, "one poll every 5 seconds")
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("0, a negative number, a fraction of a second, null or none: 5 seconds; 1 second and more as the server says; past an hour refused", () =>
    Effect.gen(function*() {
      for (
        const [interval, expected] of [
          [0, 5],
          [-3, 5],
          [0.5, 5],
          [0.999, 5],
          [null, 5],
          [undefined, 5],
          [1, 1],
          [1.5, 1.5],
          [30, 30],
          [3600, 3600]
        ] as const
      ) {
        const started = yield* grants.processDevice(answer(device(interval === undefined ? {} : { interval })))
        assert.strictEqual(started.intervalSeconds, expected, String(interval))
      }
      const absurd = yield* Effect.either(grants.processDevice(answer(device({ interval: 3601 }))))
      assert.isTrue(Either.isLeft(absurd) && absurd.left._tag === "UnexpectedResponse")
    }))
})

describe("R7: a verification link that leads elsewhere than the server", () => {
  const server = "https://tpp.example.com"

  it("another host, however it is dressed up, or plain http under an https server: a warning naming the link and why", () => {
    const cases: ReadonlyArray<readonly [string, RegExp]> = [
      [
        "https://tpp.example.com.login-venafi.evil/vedauth/device",
        /host tpp\.example\.com\.login-venafi\.evil is not the server's \(tpp\.example\.com\)/
      ],
      [
        "http://tpp.example.com@evil.example/vedauth/device",
        /host evil\.example is not the server's.*before its @ is a user name.*it is http, not https/
      ],
      ["https://evil.example/?u=https://tpp.example.com/", /host evil\.example is not the server's/],
      ["https://tpp.example.com.:443@evil.example/", /host evil\.example/],
      ["https://tрp.example.com/vedauth/device", /host xn--/], // a Cyrillic "р": another host to URL
      ["http://tpp.example.com/vedauth/device", /it is http, not https/],
      ["javascript:alert(1)", /it names no host.*it is javascript, not https/],
      ["not a link at all", /is not a URL/]
    ]
    for (const [link, why] of cases) {
      const warning = grants.verificationLinkWarning(server, link)
      assert.isDefined(warning, link)
      assert.match(warning!, why, link)
      assert.include(warning!, link.slice(0, 20), "the link is named")
    }
  })

  it("the server's own host (any path, port or case) is fine; under an http server an https link is too", () => {
    for (
      const link of [
        "https://tpp.example.com/vedauth/device",
        "https://TPP.Example.com:8443/vedauth/device?user_code=WDJB-MJHT"
      ]
    ) {
      assert.isUndefined(grants.verificationLinkWarning(server, link), link)
    }
    assert.isUndefined(grants.verificationLinkWarning("http://127.0.0.1:8080", "https://127.0.0.1:8080/vedauth/device"))
    assert.isUndefined(grants.verificationLinkWarning("http://127.0.0.1:8080", "http://127.0.0.1:8080/vedauth/device"))
  })

  it("a megabyte-long link is named in a bounded warning", () => {
    const warning = grants.verificationLinkWarning(server, `https://evil.example/${"a".repeat(1024 * 1024)}`)
    assert.isBelow(warning!.length, 2000)
    assert.include(warning, "more characters cut")
  })

  it.effect("through the device flow: warnings are logged before the person is prompted, one for each place the links lead to", () =>
    Effect.gen(function*() {
      const hostile = yield* deviceLogin(device({
        interval: 5,
        verification_uri: "https://tpp.example.test.login-venafi.evil/vedauth/device",
        verification_uri_complete: "http://tpp.example.test@evil.example/vedauth/device?user_code=WDJB-MJHT"
      }))
      assert.strictEqual(hostile.warnings.length, 2)
      assert.include(hostile.warnings[0], "https://tpp.example.test.login-venafi.evil/vedauth/device")
      assert.include(hostile.warnings[1], "host evil.example is not the server's (tpp.example.test)")
      yield* Fiber.interrupt(hostile.fiber)
      const own = yield* deviceLogin(
        device({ interval: 5, verification_uri_complete: `${url}/vedauth/device?user_code=WDJB-MJHT` })
      )
      assert.deepStrictEqual(own.warnings, [])
      yield* Fiber.interrupt(own.fiber)
      const samePlace = yield* deviceLogin(device({
        interval: 5,
        verification_uri: "https://evil.example/device",
        verification_uri_complete: "https://evil.example/device?user_code=WDJB-MJHT"
      }))
      assert.strictEqual(samePlace.warnings.length, 1, "the complete link on the same host says nothing more")
      yield* Fiber.interrupt(samePlace.fiber)
    }))
})
