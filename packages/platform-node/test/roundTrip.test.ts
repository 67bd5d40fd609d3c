import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { isLive } from "../src/internal/roundTrip.js"

// The response timer takes a plain setTimeout only on the live clock; TestClock must get its own sleep.
describe("the response timer's clock", () => {
  it.live("recognises Effect's live clock through the public API", () =>
    Effect.map(Effect.clock, (clock) => assert.isTrue(isLive(clock))))

  it.effect("does not take a TestClock, or a clock of the user's own, for the live one", () =>
    Effect.map(Effect.clock, (clock) => {
      assert.isFalse(isLive(clock))
      assert.isFalse(isLive(Clock.make()))
    }))
})
