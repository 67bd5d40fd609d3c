import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, FastCheck as fc, Option, Redacted } from "effect"
import * as Grant from "../src/Grant.js"
import { freshness, freshUntilMillis } from "../src/internal/freshness.js"

const grantArbitrary = fc.record({
  issuedAt: fc.integer({ min: 0, max: 2_000_000_000_000 }),
  lifetime: fc.integer({ min: 1, max: 100 * 86_400_000 }),
  grantEnd: fc.option(fc.integer({ min: 0, max: 200 * 86_400_000 })),
  refreshable: fc.boolean()
}).map(({ grantEnd, issuedAt, lifetime, refreshable }) =>
  new Grant.Grant({
    accessToken: Redacted.make("a"),
    refreshToken: refreshable ? Option.some(Redacted.make("r")) : Option.none(),
    tokenType: "Bearer",
    scope: "certificate",
    identity: "local:{x}",
    issuedAt: DateTime.unsafeMake(issuedAt),
    expiresAt: DateTime.unsafeMake(issuedAt + lifetime),
    refreshUntil: grantEnd === null ? Option.none() : Option.some(DateTime.unsafeMake(issuedAt + grantEnd))
  })
)

describe("freshUntilMillis (the managed token's hot path)", () => {
  it.prop(
    "a grant is fresh exactly before freshUntilMillis, as freshness classifies it",
    [
      grantArbitrary,
      fc.integer({ min: -1000, max: 300 * 86_400_000 }),
      fc.option(fc.integer({ min: 0, max: 86_400_000 }))
    ],
    ([grant, offset, window]) => {
      const configured = window === null ? undefined : Duration.millis(window)
      const now = DateTime.toEpochMillis(grant.issuedAt) + offset
      const fresh = freshness(grant, DateTime.unsafeMake(now), configured) === "fresh"
      assert.strictEqual(now < freshUntilMillis(grant, configured), fresh)
    },
    { fastCheck: { numRuns: 2000 } }
  )
})
