import { assert, describe, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import * as Simulator from "../src/Simulator.js"
import { alice, call, oauth } from "./support.js"

const withSimulator = <A, E>(f: (simulator: Simulator.Service) => Effect.Effect<A, E>, options?: Simulator.Options) =>
  Effect.flatMap(Simulator.make(options), f)

describe("VEDauth endpoints", () => {
  it.effect("the password grant issues a grant with the documented fields and opaque base64 tokens", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const answer = yield* oauth(simulator, { ...alice, state: "xyz" })
        assert.strictEqual(answer.status, 200)
        const grant = answer.json
        assert.match(grant.access_token, /^[A-Za-z0-9+/]{22}==$/)
        assert.match(grant.refresh_token, /^[A-Za-z0-9+/]{22}==$/)
        assert.notStrictEqual(grant.access_token, grant.refresh_token)
        assert.strictEqual(grant.token_type, "Bearer")
        assert.strictEqual(grant.scope, "certificate:manage,revoke")
        assert.strictEqual(grant.identity, "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}")
        assert.strictEqual(grant.expires_in, 3600)
        assert.strictEqual(grant.expires, 3600)
        assert.strictEqual(grant.refresh_until, 86400)
        assert.strictEqual(grant.state, "xyz")
        const stats = yield* simulator.stats
        assert.strictEqual(stats.authorizeOauth, 1)
        assert.strictEqual(stats.liveGrants, 1)
      })
    ))

  it.effect("each documented refusal of authorize is triggered by its cause", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const refusal = (body: unknown, raw?: string) =>
          Effect.map(call(simulator, "POST", "/vedauth/authorize/oauth", raw === undefined ? { body } : { raw }), (a) =>
            [a.status, a.json?.error, a.reason] as const)
        const { client_id: _, ...noClient } = alice
        assert.deepStrictEqual((yield* refusal(noClient)).slice(0, 2), [400, "invalid_request"])
        assert.deepStrictEqual((yield* refusal(undefined, "{not json")).slice(0, 2), [400, "invalid_request"])
        assert.deepStrictEqual((yield* refusal(undefined, "[1,2]")).slice(0, 2), [400, "invalid_request"])
        assert.deepStrictEqual((yield* refusal({ ...alice, scope: undefined })).slice(0, 2), [400, "invalid_scope"])
        assert.deepStrictEqual((yield* refusal({ ...alice, scope: "certificate:;;" })).slice(0, 2), [
          400,
          "invalid_scope"
        ])
        assert.deepStrictEqual((yield* refusal({ ...alice, scope: "admin:delete" })).slice(0, 2), [
          400,
          "invalid_scope"
        ])
        assert.deepStrictEqual((yield* refusal({ ...alice, password: "wrong" })).slice(0, 2), [400, "invalid_grant"])
        assert.deepStrictEqual((yield* refusal({ ...alice, username: "CORP\\mallory" })).slice(0, 2), [
          400,
          "invalid_grant"
        ])
        assert.deepStrictEqual((yield* refusal({ ...alice, client_id: "someone-else" })).slice(0, 2), [
          400,
          "invalid_grant"
        ])
        // The description travels in the reason phrase too, as TPP does.
        assert.strictEqual((yield* refusal({ ...alice, password: "wrong" }))[2], "Username or password is invalid")
        // client_id is matched without regard to case.
        assert.strictEqual((yield* oauth(simulator, { ...alice, client_id: "VEDAUTH-DEMO" })).status, 200)
      })
    ))

  it.effect("unauthorized_client, invalid_client and the two 401 texts come from the configuration", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const pw = { password: "Passw0rd!" }
        const bob = yield* oauth(simulator, {
          client_id: "restricted",
          username: "CORP\\bob",
          ...pw,
          scope: "certificate"
        })
        assert.deepStrictEqual([bob.status, bob.json.error], [400, "unauthorized_client"])
        const carol = yield* oauth(simulator, {
          client_id: "integrated-only",
          username: "carol",
          ...pw,
          scope: "certificate"
        })
        assert.deepStrictEqual([carol.status, carol.json.error], [400, "invalid_client"])
        const ghost = yield* oauth(simulator, {
          client_id: "vedauth-demo",
          username: "ghost",
          ...pw,
          scope: "certificate"
        })
        assert.deepStrictEqual([ghost.status, ghost.reason, ghost.text], [
          401,
          "Unhandled identity claim type",
          "Unhandled identity claim type"
        ])
        const dave = yield* oauth(simulator, {
          client_id: "vedauth-demo",
          username: "dave",
          ...pw,
          scope: "certificate"
        })
        assert.deepStrictEqual([dave.status, dave.text], [401, "Failed to issue grant: account is locked"])
        const carolOk = yield* oauth(simulator, {
          client_id: "restricted",
          username: "carol",
          ...pw,
          scope: "certificate"
        })
        assert.strictEqual(carolOk.status, 200)
        assert.strictEqual(carolOk.json.identity, "AD+corp:{b6a5e5c4-0000-4000-8000-000000000001}")
      }), {
      users: [
        { name: "bob" },
        { name: "carol", identity: "AD+corp:{b6a5e5c4-0000-4000-8000-000000000001}" },
        { name: "ghost", unmappableIdentity: true },
        { name: "dave", grantFailure: "account is locked" }
      ].map((user) => ({ ...user, password: redactedPw })),
      integrations: [
        { clientId: "vedauth-demo" },
        { clientId: "restricted", scope: "certificate", users: ["CORP\\carol"] },
        { clientId: "integrated-only", scope: "certificate", grantTypes: ["integrated"] }
      ]
    }))

  it.effect("refresh rotates: the old refresh and access tokens die at once, the new pair works", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const first = (yield* oauth(simulator)).json
        yield* TestClock.adjust("10 minutes")
        const refreshed = yield* call(simulator, "POST", "/vedauth/authorize/token", {
          body: { client_id: "vedauth-demo", refresh_token: first.refresh_token }
        })
        assert.strictEqual(refreshed.status, 200)
        const second = refreshed.json
        assert.notStrictEqual(second.access_token, first.access_token)
        assert.notStrictEqual(second.refresh_token, first.refresh_token)
        assert.strictEqual(second.expires, 600 + 3600)
        assert.strictEqual(second.refresh_until, first.refresh_until)
        const again = yield* call(simulator, "POST", "/vedauth/authorize/token", {
          body: { client_id: "vedauth-demo", refresh_token: first.refresh_token }
        })
        assert.deepStrictEqual([again.status, again.json.error, again.reason], [
          400,
          "invalid_grant",
          "Grant has been revoked, has expired, or the refresh token is invalid"
        ])
        assert.strictEqual(
          (yield* call(simulator, "GET", "/vedauth/authorize/verify", { token: first.access_token })).status,
          401
        )
        assert.strictEqual(
          (yield* call(simulator, "GET", "/vedauth/authorize/verify", { token: second.access_token })).status,
          200
        )
        const mismatch = yield* call(simulator, "POST", "/vedauth/authorize/token", {
          body: { client_id: "other", refresh_token: second.refresh_token }
        })
        assert.deepStrictEqual([mismatch.status, mismatch.json.error], [400, "invalid_grant"])
        const missing = yield* call(simulator, "POST", "/vedauth/authorize/token", {
          body: { refresh_token: second.refresh_token }
        })
        assert.deepStrictEqual([missing.status, missing.json.error], [400, "invalid_request"])
        assert.strictEqual((yield* simulator.stats).refresh, 4)
      })
    ))

  it.effect("verify reports valid_for on the Clock and the grant's end in three forms; the grant ends at refresh_until", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const grant = (yield* oauth(simulator)).json
        yield* TestClock.adjust("15 minutes")
        const verified = yield* call(simulator, "GET", "/vedauth/authorize/verify", { token: grant.access_token })
        assert.deepStrictEqual([verified.status, verified.reason], [200, "Token is valid"])
        const info = verified.json
        assert.strictEqual(info.valid_for, 2700)
        assert.strictEqual(info.application, "vedauth-demo")
        assert.strictEqual(info.scope, "certificate:manage,revoke")
        assert.strictEqual(info.expires, "/Date(86400000)/")
        assert.strictEqual(info.expires_ISO8601, "1970-01-02T00:00:00.000Z")
        assert.strictEqual(info.expires_unix_time, 86400)
        assert.strictEqual(info.access_issued_on, "/Date(0)/")
        assert.strictEqual(info.grant_issued_on_unix_time, 0)
        yield* TestClock.adjust("1 hour")
        const expired = yield* call(simulator, "GET", "/vedauth/authorize/verify", { token: grant.access_token })
        assert.deepStrictEqual([expired.status, expired.json.error], [401, "invalid_token"])
        // Refresh works until refresh_until, whatever the access token's state, then never again.
        let refreshToken: string = grant.refresh_token
        for (let hour = 0; hour < 22; hour++) {
          const next = yield* call(simulator, "POST", "/vedauth/authorize/token", {
            body: { client_id: "vedauth-demo", refresh_token: refreshToken }
          })
          assert.strictEqual(next.status, 200)
          refreshToken = next.json.refresh_token
          yield* TestClock.adjust("1 hour")
        }
        const last = yield* call(simulator, "POST", "/vedauth/authorize/token", {
          body: { client_id: "vedauth-demo", refresh_token: refreshToken }
        })
        assert.strictEqual(last.status, 200)
        assert.strictEqual(last.json.expires, 86400, "the access token never outlives the grant")
        yield* TestClock.adjust("45 minutes")
        const after = yield* call(simulator, "POST", "/vedauth/authorize/token", {
          body: { client_id: "vedauth-demo", refresh_token: last.json.refresh_token }
        })
        assert.deepStrictEqual([after.status, after.json.error], [400, "invalid_grant"])
        assert.strictEqual((yield* simulator.grants).length, 0)
      })
    ))

  it.effect("verify without a bearer token says so", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const answer = yield* call(simulator, "GET", "/vedauth/authorize/verify")
        assert.deepStrictEqual([answer.status, answer.reason], [
          401,
          "Authorization:Bearer parameter is missing or empty."
        ])
      })
    ))

  it.effect("revoke kills the grant (200 with the documented reason), then answers 202 not found", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const grant = (yield* oauth(simulator)).json
        const revoked = yield* call(simulator, "GET", "/vedauth/revoke/token", { token: grant.access_token })
        assert.strictEqual(revoked.status, 200)
        assert.strictEqual(
          revoked.reason,
          "Grant for identity [AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}] with scope [certificate:manage,revoke] has been revoked"
        )
        assert.deepStrictEqual(revoked.json, {})
        const again = yield* call(simulator, "GET", "/vedauth/revoke/token", { token: grant.access_token })
        assert.deepStrictEqual([again.status, again.reason], [202, "[token] not found"])
        assert.isFalse(again.reason.includes(grant.access_token))
        const refresh = yield* call(simulator, "POST", "/vedauth/authorize/token", {
          body: { client_id: "vedauth-demo", refresh_token: grant.refresh_token }
        })
        assert.strictEqual(refresh.status, 400)
      })
    ))

  it.effect("protected /vedsdk/ resources answer 401, 200 and 403 Grant rejected scope", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const manage = (yield* oauth(simulator, { ...alice, scope: "certificate:manage" })).json.access_token
        assert.strictEqual((yield* call(simulator, "GET", "/vedsdk/certificates/")).status, 401)
        assert.strictEqual(
          (yield* call(simulator, "GET", "/vedsdk/certificates/", { token: "bm90LWEtdG9rZW4=" })).status,
          401
        )
        assert.strictEqual((yield* call(simulator, "GET", "/vedsdk/Certificates/", { token: manage })).status, 200)
        assert.strictEqual(
          (yield* call(simulator, "POST", "/vedsdk/certificates/request", { token: manage, body: {} })).status,
          200
        )
        const refused = yield* call(simulator, "POST", "/vedsdk/certificates/revoke", { token: manage, body: {} })
        assert.strictEqual(refused.status, 403)
        assert.include(refused.text, "Grant rejected scope 'certificate:revoke'")
      })
    ))

  it.effect("paths are case-insensitive; isAuthServer answers; certificate, jwt and device can be disabled per integration", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        assert.strictEqual((yield* call(simulator, "POST", "/VEDAUTH/Authorize/OAuth", { body: alice })).status, 200)
        const probe = yield* call(simulator, "GET", "/vedauth/authorize/isAuthServer")
        assert.strictEqual(probe.status, 200)
        assert.include(probe.reason, "Venafi Authentication Server")
        for (const kind of ["certificate", "jwt"]) {
          const answer = yield* call(simulator, "POST", `/vedauth/authorize/${kind}`, {
            body: { client_id: "vedauth-demo", scope: "certificate" }
          })
          assert.deepStrictEqual([answer.status, answer.json.error], [400, "invalid_client"])
        }
        const device = yield* call(simulator, "POST", "/vedauth/authorize/device", {
          raw: "client_id=vedauth-demo&scope=certificate",
          headers: { "content-type": "application/x-www-form-urlencoded" }
        })
        assert.deepStrictEqual([device.status, device.json.error], [400, "invalid_client"])
        assert.strictEqual((yield* call(simulator, "GET", "/vedauth/authorize/oauth")).status, 405)
        assert.strictEqual((yield* call(simulator, "GET", "/nothing/here")).status, 404)
      }), { integrations: [{ clientId: "vedauth-demo", grantTypes: ["integrated", "oauth"] }] }))

  it.effect("an integration without refresh issues no refresh token", () =>
    withSimulator((simulator) =>
      Effect.gen(function*() {
        const grant = (yield* oauth(simulator)).json
        assert.isUndefined(grant.refresh_token)
        assert.isUndefined(grant.refresh_until)
        assert.strictEqual(grant.expires_in, 300)
      }), { integrations: [{ clientId: "vedauth-demo", refresh: false, tokenLifetime: "5 minutes" }] }))
})

const redactedPw = Simulator.defaultCredentials.password
