import { assert, describe, it } from "@effect/vitest"
import { Cause, DateTime, Duration, Effect, Exit, Option, Redacted, TestClock } from "effect"
import * as Grant from "../src/Grant.js"
import * as TokenInfo from "../src/TokenInfo.js"

describe("Grant wire decoding", () => {
  it.effect("a full response: expiry from expires_in at receipt (Clock), refresh_until kept apart", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_900_000_000_000)
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
      assert.strictEqual(grant.expiresAt.epochMillis, 1_900_000_000_000 + 7_775_999_000)
      assert.strictEqual(Option.getOrThrow(grant.refreshUntil).epochMillis, 2_000_000_000_000)
      assert.strictEqual(Redacted.value(Option.getOrThrow(grant.refreshToken)), "r==")
      assert.notInclude(String(grant), "a==")
    }))

  it.effect("an old server's minimal response: missing optional fields are fine", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_690_000_000_000)
      const grant = yield* Grant.decodeResponse({ access_token: "a==", expires: 1_700_000_000 })
      assert.strictEqual(grant.expiresAt.epochMillis, 1_700_000_000_000)
      assert.isTrue(Option.isNone(grant.refreshToken))
      assert.isTrue(Option.isNone(grant.refreshUntil))
      assert.strictEqual(grant.tokenType, "Bearer")
      const bare = yield* Grant.decodeResponse({ access_token: "a==" })
      assert.isTrue(
        DateTime.Equivalence(
          bare.expiresAt,
          DateTime.unsafeMake(1_690_000_000_000 + Duration.toMillis(Grant.assumedLifetime))
        )
      )
    }))

  it.effect("no access_token is a decode failure", () =>
    Effect.map(
      Effect.flip(Grant.decodeResponse({ refresh_token: "r==" })),
      (error) => assert.strictEqual(error._tag, "ParseError")
    ))
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

describe("a grant the client must not use is refused, never a defect", () => {
  const refused = (body: Record<string, unknown>) =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_800_000_000_000)
      const exit = yield* Effect.exit(Grant.decodeResponse(body))
      assert.isTrue(Exit.isFailure(exit), JSON.stringify(body))
      assert.isTrue(
        Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "ParseError")
      )
    })

  it.effect("lifetimes: expires_in <= 0 or past ten years, an expiry or grant end already passed or absurdly far", () =>
    Effect.gen(function*() {
      for (const expiresIn of [0, -1, 3650 * 86_400 + 1, 1e300]) {
        yield* refused({ access_token: "a==", expires_in: expiresIn })
      }
      yield* refused({ access_token: "a==", expires: 1_700_000_000 }) // in the past
      yield* refused({ access_token: "a==", expires: 1e300 })
      yield* refused({ access_token: "a==", expires_in: 60, refresh_until: 1_700_000_000 }) // grant over
      yield* refused({ access_token: "a==", expires_in: 60, refresh_until: 1e300 })
    }))

  it.effect("tokens: control characters, spaces, or more than 16 KiB", () =>
    Effect.gen(function*() {
      for (const token of ["a\u0000b", "a b", "a\r\nSet-Cookie: x", "\u00e9t\u00e9", "a".repeat(16 * 1024 + 1)]) {
        yield* refused({ access_token: token, expires_in: 60 })
        yield* refused({ access_token: "a==", refresh_token: token, expires_in: 60 })
      }
    }))

  it.effect("still taken: base64, base64url and JWT-like tokens, an empty refresh token as none", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(1_800_000_000_000)
      const grant = yield* Grant.decodeResponse({
        access_token: "eyJ0.eyJz_-.c2ln",
        refresh_token: "",
        expires_in: 7_775_999
      })
      assert.isTrue(Option.isNone(grant.refreshToken))
    }))

  it.effect("verify: a valid_for of 1e300 is a ParseError, not a defect", () =>
    Effect.map(Effect.exit(TokenInfo.decodeResponse({ valid_for: 1e300 })), (exit) => {
      assert.isTrue(
        Exit.isFailure(exit) && Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "ParseError")
      )
    }))
})
