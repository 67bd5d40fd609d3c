import { assert, describe, it } from "@effect/vitest"
import { randomHex } from "../src/internal/random.js"

describe("internal randomHex", () => {
  it("gives 2 lowercase hex digits per byte, different every time", () => {
    const seen = new Set(Array.from({ length: 100 }, () => randomHex(8)))
    assert.strictEqual(seen.size, 100)
    for (const hex of seen) assert.match(hex, /^[0-9a-f]{16}$/)
  })
})
