import { FetchHttpClient, HttpClient, HttpClientError, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createServer } from "node:net"
import * as http from "../src/internal/http.js"

const request = HttpClientRequest.post("https://tpp.example.test/vedauth/authorize/token")
const occurrences = (text: string, part: string) => text.split(part).length - 1

const failedWith = (cause: unknown, description?: string) =>
  http.transportError(request.url)(
    new HttpClientError.RequestError({
      request,
      reason: "Transport",
      cause,
      ...(description === undefined ? {} : { description })
    })
  )

describe("internal/http transportError", () => {
  it("names the underlying code and message once, and the URL once", () => {
    const error = failedWith(
      new TypeError("fetch failed", {
        cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" })
      })
    )
    assert.include(error.message, "connect ECONNREFUSED 127.0.0.1:443")
    assert.strictEqual(occurrences(error.message, "ECONNREFUSED"), 1)
    assert.strictEqual(occurrences(error.message, "https://tpp.example.test/vedauth/authorize/token"), 1)
    assert.include(error.message, "POST failed")
  })

  it("a TLS failure keeps its code next to its message", () => {
    const error = failedWith(Object.assign(new Error("certificate has expired"), { code: "CERT_HAS_EXPIRED" }))
    assert.include(error.message, "CERT_HAS_EXPIRED: certificate has expired")
  })

  it("user name and password never reach the error, from the URL or from the cause", () => {
    const secretRequest = HttpClientRequest.get("https://alice:hunter2@tpp.example.test/vedauth/authorize/verify")
    const error = http.transportError(secretRequest.url)(
      new HttpClientError.RequestError({
        request: secretRequest,
        reason: "Transport",
        cause: new Error("bad https://alice:hunter2@tpp.example.test/x")
      })
    )
    assert.notInclude(error.message, "hunter2")
    assert.notInclude(JSON.stringify(error), "hunter2")
    assert.notInclude(error.message, "alice")
    assert.strictEqual(error.url, "https://tpp.example.test/vedauth/authorize/verify")
  })

  it.effect("a refused loopback connection (real fetch) says ECONNREFUSED", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      // A loopback port that was just free: nobody listens on it now.
      const port = yield* Effect.async<number>((resume) => {
        const server = createServer().listen(0, "127.0.0.1", () => {
          const address = server.address()
          server.close(() => resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0)))
        })
      })
      const url = `http://127.0.0.1:${port}/vedauth/authorize/isAuthServer`
      const error = yield* Effect.flip(client.get(url).pipe(Effect.mapError(http.transportError(url)), Effect.scoped))
      assert.include(error.message, "ECONNREFUSED", error.message)
      assert.strictEqual(occurrences(error.message, url), 1)
    }).pipe(Effect.provide(FetchHttpClient.layer)))
})

describe("internal/http safeUrl and hasUserinfo", () => {
  it("strips user name and password, keeps the rest", () => {
    assert.isTrue(http.hasUserinfo("https://u:p@host/x"))
    assert.isTrue(http.hasUserinfo("https://u:p@ss@host"))
    assert.isFalse(http.hasUserinfo("https://host/x?mail=a@b"))
    assert.strictEqual(http.safeUrl("https://u:p@ss@host:8443/x?y=1"), "https://host:8443/x?y=1")
    assert.strictEqual(http.safeUrl("https://host/x?mail=a@b"), "https://host/x?mail=a@b")
  })
})

describe("internal/http readAnswer", () => {
  const respond = (body: BodyInit | null, init: ResponseInit = {}) =>
    HttpClientResponse.fromWeb(request, new Response(body, { status: 200, statusText: "OK", ...init }))

  it.effect("reads a small body, and no body as empty", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* http.readAnswer(respond("{\"a\":1}"), request.url), {
        status: 200,
        reason: "OK",
        body: "{\"a\":1}"
      })
      assert.strictEqual(
        (yield* http.readAnswer(respond(null, { status: 204, statusText: "No Content" }), request.url)).body,
        ""
      )
    }))

  it.effect("a body over 1 MiB is UnexpectedResponse, streamed or declared", () =>
    Effect.gen(function*() {
      const chunk = new Uint8Array(64 * 1024).fill(0x61)
      let pulled = 0
      const endless = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          pulled++
          controller.enqueue(chunk)
        }
      })
      const streamed = yield* Effect.flip(http.readAnswer(respond(endless), request.url))
      assert.strictEqual(streamed._tag, "UnexpectedResponse")
      assert.include(streamed.message, "larger than")
      assert.isBelow(pulled, 40)
      const declared = yield* Effect.flip(
        http.readAnswer(respond("x", { headers: { "content-length": String(2 * 1024 * 1024) } }), request.url)
      )
      assert.strictEqual(declared._tag, "UnexpectedResponse")
    }))
})
