import { Command } from "@effect/cli"
import type { Grant } from "@vedauth/core"
import { VedAuth } from "@vedauth/core"
import { Console, DateTime, Effect, Option } from "effect"
import { NotLoggedIn, UsageError } from "./errors.js"
import { withVedAuth } from "./layer.js"
import { printAccessToken } from "./printToken.js"
import { grantLines, grantSummary, tokenInfoLines, tokenInfoSummary } from "./render.js"
import { json, type Selected, selectors } from "./selectors.js"

const printJson = (value: unknown) => Console.log(JSON.stringify(value))

// `login` and `refresh` show the grant they got the same way, without its tokens.
const printGrant = (grant: Grant.Grant, json: boolean) =>
  json ? printJson(grantSummary(grant)) : Effect.flatMap(DateTime.now, (now) => Console.log(grantLines(grant, now)))

// The stored grant, or a clear word that there is none yet.
const storedGrant = Effect.flatMap(
  VedAuth.stored,
  Option.match({ onNone: () => Effect.fail(new NotLoggedIn()), onSome: Effect.succeed })
)

const command = <Name extends string, A, E>(
  name: Name,
  description: string,
  run: (options: Selected & { readonly json: boolean }) => Effect.Effect<A, E, VedAuth.VedAuth>
) =>
  Command.make(name, { ...selectors, json }, (options) => withVedAuth(options, run(options))).pipe(
    Command.withDescription(description)
  )

/** @internal */
export const login = command(
  "login",
  "Authorize with Integrated Windows Authentication and store the grant",
  (options) =>
    Effect.gen(function*() {
      if (options.username === undefined) {
        return yield* new UsageError({ detail: "login needs a Windows user: --username 'DOMAIN\\user' or VEDAUTH_USERNAME" })
      }
      yield* printGrant(yield* VedAuth.login, options.json)
    })
)

/** @internal */
export const token = command(
  "token",
  "Print a valid access token (refreshed or re-authorized as needed) and a newline",
  () => printAccessToken
)

/** @internal */
export const verify = command("verify", "Ask the server about the stored access token", (options) =>
  Effect.gen(function*() {
    const grant = yield* storedGrant
    const info = yield* VedAuth.verify(grant.accessToken)
    yield* Console.log(options.json ? JSON.stringify(tokenInfoSummary(info)) : tokenInfoLines(info))
  }))

/** @internal */
export const refresh = command("refresh", "Exchange the stored refresh token for a new pair now", (options) =>
  Effect.gen(function*() {
    yield* printGrant(yield* VedAuth.refresh(yield* storedGrant), options.json)
  }))

/** @internal */
export const revoke = command("revoke", "Revoke the stored grant (access and refresh token) and forget it", (options) =>
  Effect.gen(function*() {
    const result = yield* VedAuth.revoke(yield* storedGrant)
    const revoked = result._tag === "Revoked"
    if (options.json) return yield* printJson({ revoked, reason: result.reason })
    yield* Console.log(revoked ? `revoked: ${result.reason}` : `not found (already revoked or expired): ${result.reason}`)
  }))
