import { assert, describe, it } from "@effect/vitest"
import { processPollFailure } from "../src/internal/grants.js"

describe("a refused device authorization keeps the server's words", () => {
  for (const [code, tag] of [["access_denied", "AuthenticationFailed"], ["expired_token", "InvalidGrant"]] as const) {
    it(`${code}: the error_description is in the error`, () => {
      const outcome = processPollFailure(
        {
          status: 400,
          reason: "Bad Request",
          body: JSON.stringify({ error: code, error_description: "Denied by alice at the approval page" })
        },
        []
      )
      assert.strictEqual(outcome._tag, "Refused")
      if (outcome._tag !== "Refused") return
      assert.strictEqual(outcome.error._tag, tag)
      assert.include(outcome.error.message, "Denied by alice at the approval page")
    })
  }

  it("without one, the generic explanation", () => {
    const outcome = processPollFailure({
      status: 400,
      reason: "Bad Request",
      body: JSON.stringify({ error: "access_denied" })
    }, [])
    assert.isTrue(outcome._tag === "Refused" && outcome.error.message.includes("the device authorization was denied"))
  })
})
