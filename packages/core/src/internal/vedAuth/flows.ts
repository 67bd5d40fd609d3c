import { HttpClientRequest } from "@effect/platform"
import { DateTime, Effect, Option, Redacted } from "effect"
import * as Grant from "../../Grant.js"
import * as TokenInfo from "../../TokenInfo.js"
import type * as TokenStore from "../../TokenStore.js"
import type { Options } from "../../VedAuth.js"
import { RevokeResult } from "../../VedAuth.js"
import * as VedAuthError from "../../VedAuthError.js"
import * as errors from "../errors.js"
import * as http from "../http.js"
import { decodeGrant, jsonHeaders, type Requests } from "./request.js"
import { sameToken } from "./sameToken.js"
import type { Server } from "./server.js"

/** What the HTTP flows need from the layer. @internal */
export interface FlowsContext {
  readonly options: Options
  readonly server: Server
  readonly store: TokenStore.Service
  readonly send: Requests["send"]
  /** Drops the in-memory managed grant (after its token was revoked). */
  readonly forgetCached: Effect.Effect<void>
}

/**
 * The flows that go over plain HTTP: the refresh-token exchange, verify, revoke and isAuthServer.
 *
 * @internal
 */
export const makeFlows = ({ forgetCached, options, send, server, store }: FlowsContext) => {
  // POST authorize/token. Never retried: a refresh token is good for one use only.
  const exchange = (grant: Grant.Grant) =>
    Effect.gen(function*() {
      if (Option.isNone(grant.refreshToken)) {
        return yield* new VedAuthError.InvalidGrant({
          description: "the grant has no refresh token: refresh is disabled for this integration, authorize again"
        })
      }
      const secrets = [grant.refreshToken.value, grant.accessToken]
      const request = HttpClientRequest.post(server.endpointUrl("authorize/token")).pipe(
        HttpClientRequest.setHeaders(jsonHeaders),
        HttpClientRequest.bodyUnsafeJson({ client_id: options.clientId, refresh_token: Redacted.value(grant.refreshToken.value) })
      )
      const answer = yield* send(request)
      if (answer.status !== 200) return yield* Effect.fail(errors.fromFailure({ endpoint: "refresh", ...answer, secrets }))
      const wire = yield* decodeGrant("refresh", answer, secrets)
      return Grant.fromResponse(wire, yield* DateTime.now)
    })

  const bearerGet = (path: string, token: Redacted.Redacted<string>) =>
    send(HttpClientRequest.get(server.endpointUrl(path)).pipe(
      HttpClientRequest.acceptJson,
      HttpClientRequest.bearerToken(token)
    ))

  const verify = Effect.fn("VedAuth.verify")(function*(token: Redacted.Redacted<string>) {
    const secrets = [token]
    const answer = yield* bearerGet("authorize/verify", token)
    if (answer.status !== 200) return yield* Effect.fail(errors.fromFailure({ endpoint: "verify", ...answer, secrets }))
    const json = yield* http.parseJson("verify", answer, secrets)
    return yield* TokenInfo.decodeResponse(json).pipe(
      Effect.mapError(() => errors.undecodable("verify", answer.status, answer.reason, "token information", secrets))
    )
  })

  const revoke = Effect.fn("VedAuth.revoke")(function*(target: Grant.Grant | Redacted.Redacted<string>) {
    const token = Redacted.isRedacted(target) ? target : target.accessToken
    const secrets = Redacted.isRedacted(target) ? [token] : [token, ...Option.toArray(target.refreshToken)]
    const answer = yield* bearerGet("revoke/token", token)
    const reason = errors.scrub(answer.reason, secrets)
    const result = answer.status === 200
      ? RevokeResult.Revoked({ reason })
      : answer.status === 202
      ? RevokeResult.NotFound({ reason })
      : undefined
    if (result === undefined) return yield* Effect.fail(errors.fromFailure({ endpoint: "revoke", ...answer, secrets }))
    // Either way the token is of no more use: forget it if it was the managed grant.
    const stored = yield* store.get(server.key)
    if (Option.isSome(stored) && sameToken(stored.value.accessToken, token)) {
      yield* store.remove(server.key)
      yield* forgetCached
    }
    return result
  })

  const isAuthServer = Effect.fn("VedAuth.isAuthServer")(function*() {
    const answer = yield* send(HttpClientRequest.get(server.endpointUrl("authorize/isAuthServer")))
    if (answer.status === 200 || answer.status === 202) {
      // HTTP/2 carries no reason phrase; then the status alone has to do.
      return answer.reason === "" || /Venafi Authentication Server/i.test(`${answer.reason} ${answer.body}`)
    }
    if (answer.status >= 500) {
      return yield* new VedAuthError.UnexpectedResponse({
        status: answer.status,
        ...(answer.reason === "" ? {} : { reason: answer.reason }),
        detail: `HTTP ${answer.status} from isAuthServer`
      })
    }
    return false
  })

  return { exchange, verify, revoke, isAuthServer }
}
