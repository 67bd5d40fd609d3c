/**
 * fast-check over everything that reads bytes or JSON from the network: the NTLM codec, the grant and
 * token-info decoders, and the whole refresh/verify/revoke path behind a client
 * that answers with arbitrary statuses, reasons and bodies. Nothing may throw past the typed errors.
 * (The error mapping itself is fuzzed in core: packages/core/test/errors.test.ts.)
 * `pnpm fuzz` raises the run count (FUZZ_RUNS) to 100,000 per property.
 */
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Grant, Ntlm, TokenInfo, TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as VedAuthError from "@vedauth/core/VedAuthError"
import { Failure } from "@vedauth/winauth"
import { NtlmServer } from "@vedauth/winauth/server"
import { Cause, DateTime, Effect, Either, Exit, FastCheck as fc, Layer, Option, Redacted } from "effect"
import { generate } from "../../src/internal/certificate.js"
import * as Simulator from "../../src/Simulator.js"
import { fuzzRuns, leaked, renderings } from "./support.js"

// The engine throws its own failure for bad bytes, and nothing else.
const onlyNtlmFailures = (parse: () => unknown): boolean => {
  try {
    parse()
    return true
  } catch (error) {
    return error instanceof Failure.NtlmFailure
  }
}

const runs = fuzzRuns(300)
// The effectful properties cost more per run; they get a tenth of the budget.
const effectRuns = Math.max(50, Math.floor(runs / 10))

/** Valid bytes with a few bytes changed, a piece cut off, or a piece appended: the inputs that find bounds bugs. */
const mutated = (valid: Uint8Array) =>
  fc.tuple(
    fc.array(fc.tuple(fc.nat({ max: Math.max(0, valid.length - 1) }), fc.integer({ min: 0, max: 255 })), {
      maxLength: 8
    }),
    fc.nat({ max: valid.length }),
    fc.uint8Array({ maxLength: 16 })
  ).map(([edits, keep, tail]) => {
    const bytes = Uint8Array.from(valid)
    for (const [at, value] of edits) bytes[at] = value
    const out = new Uint8Array(keep + tail.length)
    out.set(bytes.subarray(0, keep))
    out.set(tail, keep)
    return out
  })

const bytesFor = (valid: Uint8Array) => fc.oneof(fc.uint8Array({ maxLength: 600 }), mutated(valid))

const validChallenge = NtlmServer.challenge({
  serverChallenge: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]),
  targetName: "CORP",
  timestamp: NtlmServer.fileTimeFromMillis(1_700_000_000_000),
  dnsDomain: "corp.example",
  dnsComputer: "tpp.corp.example"
})
const negotiate = Ntlm.negotiate({ domain: "CORP" })
const validAuthenticate = Effect.runSync(
  Either.match(Ntlm.parseChallenge(validChallenge), {
    onLeft: Effect.die,
    onRight: (challenge) =>
      Ntlm.authenticate({
        negotiate,
        challenge,
        domain: "CORP",
        username: "alice",
        password: Redacted.make("Passw0rd!"),
        targetName: "HTTP/tpp"
      })
  })
)

const isEither = (value: unknown) => Either.isEither(value)

describe("the NTLM codec never throws on hostile bytes", () => {
  it("parseChallenge", () => {
    fc.assert(fc.property(bytesFor(validChallenge), (bytes) => isEither(Ntlm.parseChallenge(bytes))), { numRuns: runs })
  })

  it("authenticate answers any challenge that parses, or fails typed", () => {
    fc.assert(
      fc.property(mutated(validChallenge), (bytes) => {
        const parsed = Ntlm.parseChallenge(bytes)
        if (Either.isLeft(parsed)) return parsed.left._tag === "NtlmProtocolError"
        const exit = Effect.runSyncExit(
          Ntlm.authenticate({
            negotiate,
            challenge: parsed.right,
            domain: "CORP",
            username: "alice",
            password: Redacted.make("x")
          })
        )
        return Exit.isSuccess(exit) ||
          Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "NtlmProtocolError")
      }),
      { numRuns: runs }
    )
  })

  it("parseAuthenticate", () => {
    fc.assert(
      fc.property(bytesFor(validAuthenticate), (bytes) => onlyNtlmFailures(() => NtlmServer.parseAuthenticate(bytes))),
      { numRuns: runs }
    )
  })

  it.effect("tlsServerEndPoint over arbitrary and damaged certificates", () =>
    Effect.gen(function*() {
      const certificate = yield* Effect.promise(() => generate(["127.0.0.1"], 1_700_000_000_000))
      const der = new Uint8Array(certificate.der)
      assert.isTrue(Either.isRight(Ntlm.tlsServerEndPoint(der)))
      fc.assert(fc.property(bytesFor(der), (bytes) => isEither(Ntlm.tlsServerEndPoint(bytes))), { numRuns: runs })
    }))
})

/** JSON-ish values with the right field names and any types: a decoder's worst day. */
const hostileObject = (names: ReadonlyArray<string>) =>
  fc.dictionary(
    fc.constantFrom(...names, "extra", "__proto__", "constructor"),
    fc.oneof(fc.anything(), fc.string(), fc.double(), fc.integer()),
    { maxKeys: names.length }
  )

const grantFields = [
  "access_token",
  "refresh_token",
  "expires_in",
  "expires",
  "token_type",
  "scope",
  "identity",
  "refresh_until",
  "state"
]
const verifyFields = [
  "application",
  "identity",
  "scope",
  "valid_for",
  "access_issued_on",
  "access_issued_on_ISO8601",
  "access_issued_on_unix_time",
  "grant_issued_on",
  "grant_issued_on_ISO8601",
  "grant_issued_on_unix_time",
  "expires",
  "expires_ISO8601",
  "expires_unix_time"
]

/** Succeeds, or fails with a ParseError: never a defect. */
const decodesOrParseError = (effect: Effect.Effect<unknown, { readonly _tag: string }>) => {
  const exit = Effect.runSyncExit(effect)
  return Exit.isSuccess(exit) || Option.exists(Cause.failureOption(exit.cause), (e) => e._tag === "ParseError")
}

describe("the response decoders never throw", () => {
  it("Grant.decodeResponse", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), hostileObject(grantFields)),
        (body) => decodesOrParseError(Grant.decodeResponse(body))
      ),
      {
        numRuns: runs
      }
    )
  })

  it("TokenInfo.decodeResponse", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.anything(), hostileObject(verifyFields)),
        (body) => decodesOrParseError(TokenInfo.decodeResponse(body))
      ),
      { numRuns: runs }
    )
  })
})

/** Text that may carry a secret anywhere, as a reason phrase or body echoing a token would. */
const textWith = (secret: string) =>
  fc.tuple(fc.string({ maxLength: 40 }), fc.boolean(), fc.string({ maxLength: 40 })).map((
    [a, echo, b]
  ) => (echo ? `${a}${secret}${b}` : `${a}${b}`))

const bodyWith = (secret: string) =>
  fc.oneof(
    textWith(secret),
    fc.record({
      error: fc.oneof(
        fc.constantFrom("invalid_client", "invalid_request", "invalid_scope", "invalid_grant", "unauthorized_client"),
        textWith(secret)
      ),
      error_description: textWith(secret)
    }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
    fc.constantFrom(
      "Failed to issue grant: locked",
      "Unhandled identity claim type",
      "Grant rejected scope 'certificate:manage'"
    )
  )

/** An HttpClient whose every answer is the generated one. */
const scriptedClient = (status: number, reason: string, body: string) =>
  Layer.succeed(
    HttpClient.HttpClient,
    HttpClient.make((request) =>
      Effect.succeed(
        HttpClientResponse.fromWeb(request, new Response(status === 204 ? null : body, { status, statusText: reason }))
      )
    )
  )

// Unused by these flows (they are plain HTTPS), but VedAuth needs one.
const ntlmTransport = Simulator.layerNtlmTransport.pipe(Layer.provide(Simulator.layer()))

const reasonArb = fc.stringMatching(/^[\x20-\x7e]{0,40}$/)

describe("refresh, verify and revoke over arbitrary answers", () => {
  it.effect("end in a grant or result, or a typed error with no secret; never a defect", () =>
    Effect.gen(function*() {
      const now = yield* DateTime.now
      const access = "QUNDRVNTLXRva2VuLXNlY3JldA=="
      const refresh = "UkVGUkVTSC10b2tlbi1zZWNyZXQ="
      const grant = new Grant.Grant({
        accessToken: Redacted.make(access),
        refreshToken: Option.some(Redacted.make(refresh)),
        tokenType: "Bearer",
        scope: "certificate:manage",
        identity: "AD+corp:x",
        issuedAt: now,
        expiresAt: DateTime.add(now, { hours: 1 }),
        refreshUntil: Option.none()
      })
      const property = fc.asyncProperty(
        fc.constantFrom(200, 202, 204, 400, 401, 403, 404, 500, 502, 503),
        reasonArb,
        fc.oneof(
          bodyWith(access),
          bodyWith(refresh),
          fc.json(),
          hostileObject(grantFields).map((o) => JSON.stringify(o))
        ),
        fc.constantFrom("refresh", "verify", "revoke"),
        async (status, reason, body, flow) => {
          const call: Effect.Effect<unknown, VedAuthError.VedAuthError, VedAuth.VedAuth> = flow === "refresh"
            ? VedAuth.refresh(grant)
            : flow === "verify"
            ? VedAuth.verify(grant.accessToken)
            : VedAuth.revoke(grant)
          const exit = await Effect.runPromiseExit(
            call.pipe(
              Effect.provide(
                VedAuth.layer({ url: "https://tpp.example", clientId: "vedauth-demo", scope: "certificate:manage" })
                  .pipe(
                    Layer.provide(
                      Layer.mergeAll(scriptedClient(status, reason, body), ntlmTransport, TokenStore.layerMemory)
                    )
                  )
              )
            )
          )
          if (Exit.isSuccess(exit)) return true
          const failure = Cause.failureOption(exit.cause)
          assert.isTrue(Option.isSome(failure), `a defect: ${Cause.pretty(exit.cause)}`)
          const error = Option.getOrThrow(failure)
          assert.isTrue(VedAuthError.isVedAuthError(error), error._tag)
          // verify never had the refresh token: a server echoing it is not the client's leak.
          const known = flow === "verify" ? [access] : [access, refresh]
          assert.deepStrictEqual(leaked(renderings(error).join("\n") + Cause.pretty(exit.cause), known), [])
          return true
        }
      )
      yield* Effect.promise(() => fc.assert(property, { numRuns: effectRuns }))
    }))
})
