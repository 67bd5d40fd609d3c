import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Option, Redacted, TestClock } from "effect"
import * as Grant from "../src/Grant.js"
import * as TokenInfo from "../src/TokenInfo.js"

describe("Grant wire decoding", () => {
  it.effect("a full response: expiry from expires_in at receipt (Clock), refresh_until kept apart", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_000_000)
      const grant = yield* Grant.decodeResponse({
        access_token: "a==",
        refresh_token: "r==",
        expires_in: 7775999,
        expires: 1,
        token_type: "Bearer",
        scope: "certificate:manage",
        identity: "local:{x}",
        refresh_until: 2_000_000_000,
        something_new: { nested: true }
      })
      assert.strictEqual(grant.expiresAt.epochMillis, 1_000_000 + 7_775_999_000)
      assert.strictEqual(Option.getOrThrow(grant.refreshUntil).epochMillis, 2_000_000_000_000)
      assert.strictEqual(Redacted.value(Option.getOrThrow(grant.refreshToken)), "r==")
      assert.notInclude(String(grant), "a==")
    }))

  it.effect("an old server's minimal response: missing optional fields are fine", () =>
    Effect.gen(function*() {
      const grant = yield* Grant.decodeResponse({ access_token: "a==", expires: 1_700_000_000 })
      assert.strictEqual(grant.expiresAt.epochMillis, 1_700_000_000_000)
      assert.isTrue(Option.isNone(grant.refreshToken))
      assert.isTrue(Option.isNone(grant.refreshUntil))
      assert.strictEqual(grant.tokenType, "Bearer")
      const bare = yield* Grant.decodeResponse({ access_token: "a==" })
      assert.isTrue(DateTime.Equivalence(bare.expiresAt, DateTime.unsafeMake(Duration.toMillis(Grant.assumedLifetime))))
    }))

  it.effect("no access_token is a decode failure", () =>
    Effect.map(Effect.flip(Grant.decodeResponse({ refresh_token: "r==" })), (error) => assert.strictEqual(error._tag, "ParseError")))
})

describe("TokenInfo wire decoding", () => {
  it.effect("/Date(ms)/, unix times and valid_for", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(10_000)
      const info = yield* TokenInfo.decodeResponse({
        application: "app",
        identity: "local:{x}",
        scope: "certificate:manage",
        valid_for: 60,
        access_issued_on: "/Date(1590000000000)/",
        grant_issued_on: "/Date(1590000000000+0000)/",
        grant_issued_on_unix_time: null,
        expires: null,
        expires_unix_time: 0,
        unknown: 1
      })
      assert.strictEqual(Option.getOrThrow(info.accessIssuedOn).epochMillis, 1_590_000_000_000)
      assert.strictEqual(Option.getOrThrow(info.grantIssuedOn).epochMillis, 1_590_000_000_000)
      assert.isTrue(Option.isNone(info.grantExpires))
      assert.strictEqual(info.expiresAt.epochMillis, 70_000)
    }))

  it.effect("an empty body decodes to empty info", () =>
    Effect.map(TokenInfo.decodeResponse({}), (info) => {
      assert.strictEqual(info.scope, "")
      assert.isTrue(Option.isNone(info.accessIssuedOn))
    }))
})
