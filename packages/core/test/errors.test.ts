import { assert, describe, it } from "@effect/vitest"
import {
  Cause,
  Duration,
  Effect,
  FastCheck,
  Inspectable,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Schema,
  TestClock
} from "effect"
import * as errors from "../src/internal/errors.js"
import * as VedAuth from "../src/VedAuth.js"
import * as VedAuthError from "../src/VedAuthError.js"
import { password, spentRefresh } from "./fixtures/fakeVedAuth.js"
import { setup } from "./fixtures/setup.js"

const oauth = (error: string, description: string) => ({
  status: 400,
  reason: "Bad Request",
  body: JSON.stringify({ error, error_description: description })
})

const documented400 = [
  ["invalid_client", "InvalidClient", "Browser-based authentication is disabled"],
  ["invalid_request", "InvalidRequest", "client_id is missing"],
  ["invalid_scope", "InvalidScope", "Scope 'ssh:manage' is beyond the integration's scope"],
  ["invalid_grant", "InvalidGrant", "Username/password combination is invalid"],
  ["unauthorized_client", "UnauthorizedClient", "The user is not authorized for this application"]
] as const

describe("error mapping (authorize through the scripted server)", () => {
  for (const [code, tag, description] of documented400) {
    it.effect(`400 ${code} -> ${tag}, keeping error_description and the reason phrase`, () => {
      const { layer } = setup((s) => {
        s.scripted.authorize.push(oauth(code, description))
      })
      return Effect.gen(function*() {
        const error = yield* Effect.flip(VedAuth.authorize())
        assert.strictEqual(error._tag, tag)
        if ("description" in error) {
          assert.strictEqual(error.description, description)
          assert.strictEqual(error.reason, "Bad Request")
          assert.strictEqual(error.status, 400)
        }
        assert.include(error.message, description)
      }).pipe(Effect.provide(layer))
    })
  }

  it.effect("401 'Failed to issue grant: ...' -> GrantIssueFailed with the text", () => {
    const { layer } = setup((s) => {
      s.scripted.authorize.push({
        status: 401,
        reason: "Unauthorized",
        body: "Failed to issue grant: User is disabled"
      })
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "GrantIssueFailed")
      if (error._tag === "GrantIssueFailed") {
        assert.strictEqual(error.description, "Failed to issue grant: User is disabled")
        assert.strictEqual(error.reason, "Unauthorized")
      }
    }).pipe(Effect.provide(layer))
  })

  it.effect("401 'Unhandled identity claim type' -> UnhandledIdentityClaim", () => {
    const { layer } = setup((s) => {
      s.scripted.authorize.push({ status: 401, reason: "Unhandled identity claim type", body: "" })
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "UnhandledIdentityClaim")
    }).pipe(Effect.provide(layer))
  })

  it.effect("an undocumented status -> UnexpectedResponse without the body", () => {
    const { layer } = setup((s) => {
      s.scripted.authorize.push({
        status: 500,
        reason: "Internal Server Error",
        body: "stack trace with secret-ish stuff"
      })
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "UnexpectedResponse")
      assert.notInclude(error.message, "stack trace")
      if (error._tag === "UnexpectedResponse") assert.strictEqual(error.status, 500)
    }).pipe(Effect.provide(layer))
  })
})

describe("error mapping (unit)", () => {
  const failure = (
    endpoint: errors.Endpoint,
    status: number,
    reason: string,
    body: string,
    secrets: Array<string> = []
  ) => errors.fromFailure({ endpoint, status, reason, body, secrets: secrets.map((s) => Redacted.make(s)) })

  it("401 on verify, revoke and resources -> InvalidToken; on authorize it is not", () => {
    for (const endpoint of ["verify", "revoke", "resource"] as const) {
      assert.strictEqual(failure(endpoint, 401, "Unauthorized", "")._tag, "InvalidToken")
    }
    assert.strictEqual(failure("authorize", 401, "Unauthorized", "")._tag, "UnexpectedResponse")
  })

  it("403 'Grant rejected scope' -> InsufficientScope with the scope; also the pre-20.4 401 form", () => {
    const e403 = failure("resource", 403, "Forbidden", "{\"error\":\"Grant rejected scope 'certificate:manage'\"}")
    assert.strictEqual(e403._tag, "InsufficientScope")
    if (e403._tag === "InsufficientScope") assert.strictEqual(e403.rejectedScope, "certificate:manage")
    const e401 = failure("resource", 401, "Grant rejected scope 'ssh'", "")
    assert.strictEqual(e401._tag, "InsufficientScope")
    if (e401._tag === "InsufficientScope") assert.strictEqual(e401.rejectedScope, "ssh")
  })

  it("a refresh 400 with only the reason phrase is InvalidGrant", () => {
    assert.strictEqual(failure("refresh", 400, spentRefresh.reason, "")._tag, "InvalidGrant")
  })

  it("an undocumented 400 code and a 400 without JSON -> UnexpectedResponse", () => {
    assert.strictEqual(failure("authorize", 400, "Bad Request", "{\"error\":\"weird\"}")._tag, "UnexpectedResponse")
    assert.strictEqual(failure("authorize", 400, "Bad Request", "<html>")._tag, "UnexpectedResponse")
  })

  it("secrets echoed by the server are scrubbed from reason and description", () => {
    const error = failure("verify", 401, "tok-123== not found", "{\"error_description\":\"bad tok-123==\"}", [
      "tok-123=="
    ])
    assert.notInclude(JSON.stringify(error), "tok-123==")
    assert.notInclude(error.message, "tok-123==")
  })
})

// Every error a secret could reach, rendered every way a program might print it.
const renderings = (error: VedAuthError.VedAuthError): Array<string> => [
  error.message,
  String(error),
  error.toString(),
  JSON.stringify(error),
  Inspectable.format(error),
  JSON.stringify(Schema.encodeSync(VedAuthError.VedAuthError)(error))
]

describe("secrets never appear in errors or logs", () => {
  it.effect("password, access and refresh tokens are absent from every error and every log line", () => {
    const lines: Array<string> = []
    const logger = Logger.make(({ message }) => {
      lines.push(Inspectable.format(message))
    })
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const grant = yield* VedAuth.grant
      const secrets = [
        password,
        Redacted.value(grant.accessToken),
        Redacted.value(Option.getOrThrow(grant.refreshToken))
      ]
      const collected: Array<VedAuthError.VedAuthError> = []
      // A spent refresh token (logged, then re-authorized).
      yield* TestClock.adjust(Duration.minutes(56))
      server.scripted.refresh.push(spentRefresh)
      yield* VedAuth.accessToken
      server.scripted.refresh.push(spentRefresh)
      collected.push(yield* Effect.flip(VedAuth.refresh(grant)))
      // Every documented refusal on authorize.
      for (const [code, , description] of documented400) {
        server.scripted.authorize.push(oauth(code, `${description} ${password}`))
        collected.push(yield* Effect.flip(VedAuth.authorize()))
      }
      // A 200 grant that does not decode.
      server.scripted.authorize.push({
        status: 200,
        reason: "OK",
        body: `{"access_token": 5, "refresh_token": "${secrets[2]}"}`
      })
      collected.push(yield* Effect.flip(VedAuth.authorize()))
      // verify and revoke of tokens the server echoes back.
      const revoked = yield* VedAuth.revoke(grant)
      const notFound = yield* VedAuth.revoke(grant)
      assert.strictEqual(notFound._tag, "NotFound")
      collected.push(yield* Effect.flip(VedAuth.verify(grant.accessToken)))
      // Session release that fails to revoke logs a warning.
      yield* Effect.scoped(VedAuth.session)
      assert.isAbove(collected.length, 7)
      for (const error of collected) {
        for (const text of renderings(error)) {
          for (const secret of secrets) assert.notInclude(text, secret, `${error._tag} leaks a secret`)
        }
      }
      for (const secret of secrets) {
        assert.notInclude(JSON.stringify([revoked, notFound]), secret)
        for (const line of lines) assert.notInclude(line, secret)
      }
      assert.isAbove(lines.length, 0)
    }).pipe(
      Effect.provide(layer),
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
  })
})

describe("isVedAuthError", () => {
  it("is true for every error of the union and for nothing else with a _tag", () => {
    for (const member of VedAuthError.VedAuthError.members) {
      const error = Schema.decodeUnknownSync(VedAuthError.VedAuthError)({
        _tag: member._tag,
        detail: "x",
        reason: "KDC_ERR_PREAUTH_FAILED"
      })
      assert.isTrue(VedAuthError.isVedAuthError(error), member._tag)
    }
    assert.strictEqual(VedAuthError.VedAuthError.members.length, 15)
    assert.isFalse(VedAuthError.isVedAuthError({ _tag: "InvalidScope", message: "look-alike" }))
    assert.isFalse(VedAuthError.isVedAuthError(new Error("InvalidScope")))
    assert.isFalse(VedAuthError.isVedAuthError(null))
  })

  it("isServerRefusal picks the server's documented refusals only", () => {
    assert.isTrue(VedAuthError.isServerRefusal(new VedAuthError.InvalidGrant({})))
    assert.isTrue(VedAuthError.isServerRefusal(new VedAuthError.InsufficientScope({})))
    assert.isFalse(VedAuthError.isServerRefusal(new VedAuthError.TransportError({ detail: "down" })))
    assert.isFalse(VedAuthError.isServerRefusal({ _tag: "InvalidGrant" }))
  })
})

describe("the error mapping over arbitrary answers (fast-check; `pnpm fuzz` raises FUZZ_RUNS)", () => {
  const runs = Number(process.env["FUZZ_RUNS"]) > 0 ? Number(process.env["FUZZ_RUNS"]) : 300
  const token = FastCheck.stringMatching(/^[A-Za-z0-9+/]{12,24}==$/)
  // Some text, with the token somewhere in it half of the time, as an echoing server would send.
  const echoing = (secret: string) =>
    FastCheck.record({
      before: FastCheck.string({ maxLength: 40 }),
      echo: FastCheck.boolean(),
      after: FastCheck.string({ maxLength: 40 })
    })
      .map(({ after, before, echo }) => echo ? before + secret + after : before + after)
  const oauthBody = (secret: string) =>
    FastCheck.record({
      error: FastCheck.oneof(
        FastCheck.constantFrom("invalid_client", "invalid_scope", "invalid_grant", "unauthorized_client"),
        echoing(secret)
      ),
      error_description: echoing(secret)
    }, { requiredKeys: [] }).map((body) => JSON.stringify(body))

  it("maps any failure of any endpoint to a vedauth error that holds no secret, in any letter case", () => {
    FastCheck.assert(
      FastCheck.property(
        token.chain((secret) =>
          FastCheck.record({
            secret: FastCheck.constant(secret),
            endpoint: FastCheck.constantFrom<errors.Endpoint>(
              "authorize",
              "refresh",
              "verify",
              "revoke",
              "isAuthServer",
              "resource"
            ),
            status: FastCheck.integer({ min: 100, max: 599 }),
            reason: echoing(secret),
            body: FastCheck.oneof(
              echoing(secret),
              oauthBody(secret),
              FastCheck.constantFrom("Failed to issue grant: locked", "Grant rejected scope 'a:b'")
            )
          })
        ),
        ({ body, endpoint, reason, secret, status }) => {
          const error = errors.fromFailure({ endpoint, status, reason, body, secrets: [Redacted.make(secret)] })
          assert.isTrue(VedAuthError.isVedAuthError(error), error._tag)
          const shown = [String(error), error.message, JSON.stringify(error)].join("\n").toLowerCase()
          assert.notInclude(shown, secret.toLowerCase())
        }
      ),
      { numRuns: runs }
    )
  })
})

describe("how a failure reads where programs print it", () => {
  it("the tag once: String(error) and Effect's failure report start `<Tag>: <what happened>`", () => {
    const failures = [
      new VedAuthError.AuthenticationFailed({
        description: "the server rejected the Windows credentials of CORP\\alice",
        status: 401
      }),
      new VedAuthError.TransportError({
        detail: "connect ECONNREFUSED 127.0.0.1:9",
        url: "http://127.0.0.1:9/vedauth/authorize/integrated"
      }),
      new VedAuthError.TokenStoreError({ detail: "not a vedauth token store" }),
      new VedAuthError.NtlmProtocolError({ detail: "no NTLM offered" }),
      new VedAuthError.KerberosError({ reason: "KRB_AP_ERR_MUT_FAIL", detail: "no AP-REP", hint: "check the SPN" })
    ]
    for (const error of failures) {
      const first = Cause.pretty(Cause.fail(error)).split("\n")[0]!
      assert.strictEqual(String(error), `${error._tag}: ${error.message}`)
      assert.strictEqual(first, `${error._tag}: ${error.message}`)
      assert.notInclude(error.message, error._tag)
    }
    // The protocol's reason leads a Kerberos error's message; `name` stays Error's own.
    const kerberos = failures[4]!
    assert.strictEqual(String(kerberos), "KerberosError: KRB_AP_ERR_MUT_FAIL: no AP-REP (check the SPN)")
    assert.strictEqual(kerberos.name, "KerberosError")
  })
})
