/**
 * authorize/certificate: the identity is the client certificate the connection presented over
 * mutual TLS (verified by the server against its client CA), mapped to a user by its subject CN
 * or one of its subject alternative names, as TPP maps a certificate to an identity.
 */
import { Effect } from "effect"
import type { Connection, HandlerContext } from "./context.js"
import type { SimRequest, SimResponse } from "./http.js"
import { oauthError, parseJsonObject, stringField, text } from "./http.js"
import { checkClient, issue, lookupUser } from "./vedauth.js"

/** @internal */
export const authorizeCertificate = (
  ctx: HandlerContext,
  connection: Connection,
  request: SimRequest
): Effect.Effect<SimResponse> =>
  Effect.suspend(() => {
    const body = parseJsonObject(request.body)
    if (body === undefined) return Effect.succeed(oauthError("invalid_request", "The request body is not valid JSON"))
    const integration = checkClient(ctx, stringField(body, "client_id"), "certificate")
    if ("status" in integration) return Effect.succeed(integration)
    const presented = connection.tls?.clientCertificate
    if (presented === undefined) {
      return Effect.succeed(oauthError("invalid_grant", "A trusted client certificate is required"))
    }
    const names = [...(presented.commonName === undefined ? [] : [presented.commonName]), ...presented.altNames]
    const user = names.map((name) => lookupUser(ctx, name)).find((found) => found !== undefined)
    if (user === undefined) {
      return Effect.succeed(text(401, "Unhandled identity claim type", "Unhandled identity claim type"))
    }
    return issue(ctx, integration, user, stringField(body, "scope"), stringField(body, "state"))
  })
