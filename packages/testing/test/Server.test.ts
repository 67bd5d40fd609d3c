import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Simulator from "../src/Simulator.js"

interface Got {
  readonly status: number
  readonly reason: string
  readonly headers: Http.IncomingHttpHeaders
  readonly distinct: NodeJS.Dict<Array<string>>
  readonly body: string
}

const request = (
  url: string,
  options: {
    readonly method?: string
    readonly body?: string | Buffer
    readonly ca?: string | undefined
    readonly headers?: Record<string, string>
  } = {}
) =>
  Effect.async<Got, Error>((resume) => {
    const module = url.startsWith("https:") ? Https : Http
    const req = module.request(url, {
      method: options.method ?? "GET",
      headers: options.headers ?? {},
      ...(options.ca === undefined ? {} : { ca: options.ca })
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (chunk: Buffer) => chunks.push(chunk))
      res.on("end", () =>
        resume(
          Effect.succeed({
            status: res.statusCode ?? 0,
            reason: res.statusMessage ?? "",
            headers: res.headers,
            distinct: res.headersDistinct,
            body: Buffer.concat(chunks).toString("utf8")
          })
        ))
    })
    req.on("error", (error) => resume(Effect.fail(error)))
    req.end(options.body)
  })

describe("the socket server", () => {
  it.live("start() serves HTTPS on loopback with a certificate clients can trust, and close() stops it", () =>
    Effect.gen(function*() {
      const served = yield* Effect.promise(() => Simulator.start())
      assert.match(served.url, /^https:\/\/127\.0\.0\.1:\d+$/)
      assert.include(served.caPem, "BEGIN CERTIFICATE")
      const probe = yield* request(`${served.url}/vedauth/authorize/isAuthServer`, { ca: served.caPem })
      assert.deepStrictEqual([probe.status, probe.reason], [200, "Venafi Authentication Server"])
      const anonymous = yield* request(`${served.url}/vedauth/authorize/integrated`, {
        method: "POST",
        ca: served.caPem,
        body: "{}"
      })
      assert.strictEqual(anonymous.status, 401)
      assert.deepStrictEqual(anonymous.distinct["www-authenticate"], ["Negotiate", "NTLM"])
      // Reason phrases carry VEDauth's messages on the wire too.
      const refused = yield* request(`${served.url}/vedauth/authorize/oauth`, {
        method: "POST",
        ca: served.caPem,
        body: JSON.stringify({ client_id: "vedauth-demo", username: "alice", password: "x", scope: "certificate" })
      })
      assert.deepStrictEqual([refused.status, refused.reason, JSON.parse(refused.body).error], [
        400,
        "Username or password is invalid",
        "invalid_grant"
      ])
      // Without the CA, TLS verification refuses the self-signed certificate.
      const untrusted = yield* Effect.either(request(`${served.url}/vedauth/authorize/isAuthServer`))
      assert.strictEqual(untrusted._tag, "Left")
      yield* Effect.promise(() => served.close())
      const closed = yield* Effect.either(request(`${served.url}/vedauth/authorize/isAuthServer`, { ca: served.caPem }))
      assert.strictEqual(closed._tag, "Left")
    }))

  it.live("layerServer over HTTP on ::1; an oversized body gets 413 without the server reading it all", () =>
    Effect.gen(function*() {
      const server = yield* Simulator.Server
      assert.match(server.url, /^http:\/\/\[::1\]:\d+$/)
      const big = yield* Effect.either(
        request(`${server.url}/vedauth/authorize/oauth`, { method: "POST", body: Buffer.alloc(1024 * 1024, 0x61) })
      )
      if (big._tag === "Right") assert.strictEqual(big.right.status, 413)
      const after = yield* request(`${server.url}/vedauth/authorize/isAuthServer`)
      assert.strictEqual(after.status, 200)
      assert.strictEqual((yield* Simulator.stats).requests, 1)
    }).pipe(Effect.provide(Layer.fresh(Simulator.layerServer({ protocol: "http", host: "::1", maxBodyBytes: 1024 })))))

  it.live("faults at run time on sockets: 503, then drop after NEGOTIATE, then normal again", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* Simulator.serve({ protocol: "http" })
      yield* simulator.setFaults({ serverError: 503 })
      assert.strictEqual((yield* request(`${url}/vedauth/authorize/verify`)).status, 503)
      yield* simulator.setFaults({ dropAfterNegotiate: true })
      const negotiate = "NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw=="
      const dropped = yield* Effect.either(
        request(`${url}/vedauth/authorize/integrated`, { method: "POST", headers: { authorization: negotiate } })
      )
      assert.strictEqual(dropped._tag, "Left")
      yield* simulator.setFaults({})
      const challenged = yield* request(`${url}/vedauth/authorize/integrated`, {
        method: "POST",
        headers: { authorization: negotiate }
      })
      assert.strictEqual(challenged.status, 401)
      assert.match(String(challenged.headers["www-authenticate"]), /^NTLM TlRMTVNTUAAC/)
    }).pipe(Effect.scoped))

  it.live("a response Node refuses to write (status 42 from the serverError fault) closes that socket; the server lives on", () =>
    Effect.gen(function*() {
      const { simulator, url } = yield* Simulator.serve({ protocol: "http", faults: { serverError: 42 } })
      // writeHead throws ERR_HTTP_INVALID_STATUS_CODE: the client sees the connection close, not a hang.
      const refused = yield* Effect.either(request(`${url}/vedauth/authorize/verify`))
      assert.strictEqual(refused._tag, "Left")
      yield* simulator.setFaults({})
      assert.strictEqual((yield* request(`${url}/vedauth/authorize/isAuthServer`)).status, 200)
    }).pipe(Effect.scoped))
})
