import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Redacted } from "effect"
import * as Credentials from "../src/Credentials.js"
import * as VedAuth from "../src/VedAuth.js"

const fromEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(
    ConfigProvider.fromMap(
      new Map(
        Object.entries({
          VEDAUTH_URL: "https://tpp.example",
          VEDAUTH_CLIENT_ID: "app",
          VEDAUTH_SCOPE: "certificate",
          ...env
        })
      )
    )
  )

describe("VedAuth.config: VEDAUTH_GRANT and VEDAUTH_JWT_FILE", () => {
  it.effect("no VEDAUTH_GRANT is the integrated grant (no credentials option: today's behaviour)", () =>
    Effect.gen(function*() {
      const options = yield* VedAuth.config
      assert.isUndefined(options.credentials)
    }).pipe(fromEnv({})))

  it.effect("each grant by name; jwt takes its file", () =>
    Effect.gen(function*() {
      for (const name of ["password", "certificate", "device"] as const) {
        const options = yield* VedAuth.config.pipe(fromEnv({ VEDAUTH_GRANT: name }))
        assert.strictEqual(
          options.credentials === undefined ? undefined : Credentials.grantName(options.credentials),
          name
        )
      }
      const jwt = yield* VedAuth.config.pipe(
        fromEnv({ VEDAUTH_GRANT: "jwt", VEDAUTH_JWT_FILE: "/var/run/secrets/tokens/vedauth" })
      )
      assert.deepStrictEqual(jwt.credentials, Credentials.jwtFile("/var/run/secrets/tokens/vedauth"))
    }))

  it.effect("jwt without VEDAUTH_JWT_FILE, or an unknown grant, is a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(VedAuth.config.pipe(fromEnv({ VEDAUTH_GRANT: "jwt" })))
      assert.include(String(missing), "VEDAUTH_JWT_FILE")
      const unknown = yield* Effect.flip(VedAuth.config.pipe(fromEnv({ VEDAUTH_GRANT: "kerberos-magic" })))
      assert.include(String(unknown), "VEDAUTH_GRANT")
    }))

  it("only the integrated and password grants send the username and password", () => {
    assert.deepStrictEqual(
      [
        Credentials.integrated,
        Credentials.password,
        Credentials.certificate,
        Credentials.jwt(Effect.succeed(Redacted.make("x"))),
        Credentials.device(() => Effect.void)
      ]
        .map(Credentials.usesPassword),
      [true, true, false, false, false]
    )
  })
})
