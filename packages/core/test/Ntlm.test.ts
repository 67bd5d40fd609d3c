import { assert, describe, it } from "@effect/vitest"
import { Ntlm } from "@vedauth/core"
import { NtlmServer } from "@vedauth/winauth/server"
import { Effect, Either, Redacted, TestClock } from "effect"

// Core's NTLM client is the engine's (winauth/test/Ntlm.test.ts holds the MS-NLMP vectors) with
// the password Redacted, the time from the Clock, and the engine's failure as NtlmProtocolError.
const password = Redacted.make("S3cret-pässword!")
const serverChallenge = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8)

describe("Ntlm (core): the engine as Effect values", () => {
  it.effect("an AUTHENTICATE the server half verifies, stamped with the Clock's time when the CHALLENGE has none", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.UTC(2026, 5, 1))
      const negotiate = Ntlm.negotiate({ domain: "CORP" })
      const raw = NtlmServer.challenge({
        serverChallenge,
        targetName: "CORP",
        timestamp: NtlmServer.fileTimeFromMillis(Date.UTC(2026, 5, 1))
      })
      const challenge = Either.getOrThrow(Ntlm.parseChallenge(raw))
      const message = yield* Ntlm.authenticate({ negotiate, challenge, domain: "CORP", username: "alice", password })
      const authenticate = NtlmServer.parseAuthenticate(message)
      assert.strictEqual(authenticate.username, "alice")
      assert.isUndefined(
        NtlmServer.verify({
          negotiate,
          challenge: raw,
          serverChallenge,
          authenticate,
          password: Redacted.value(password)
        })
      )
      assert.strictEqual(
        NtlmServer.verify({ negotiate, challenge: raw, serverChallenge, authenticate, password: "other" }),
        "bad-proof"
      )
    }))

  it.effect("a CHALLENGE that cannot be answered is an NtlmProtocolError without the password", () =>
    Effect.gen(function*() {
      const raw = NtlmServer.challenge({
        serverChallenge,
        targetName: "CORP",
        timestamp: NtlmServer.fileTimeFromMillis(0)
      })
      const challenge = Either.getOrThrow(Ntlm.parseChallenge(raw))
      const error = yield* Effect.flip(
        Ntlm.authenticate({
          negotiate: Ntlm.negotiate(),
          challenge: { ...challenge, targetInfo: Uint8Array.of(1, 0, 9) },
          domain: "D",
          username: "u",
          password
        })
      )
      assert.strictEqual(error._tag, "NtlmProtocolError")
      for (const text of [error.message, String(error), JSON.stringify(error)]) {
        assert.notInclude(text, Redacted.value(password))
      }
      assert.strictEqual(Either.getLeft(Ntlm.parseChallenge(Uint8Array.of(1, 2, 3))).pipe((e) => e._tag), "Some")
    }))
})
