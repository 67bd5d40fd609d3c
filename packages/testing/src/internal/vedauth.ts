/**
 * The VEDauth endpoints (authorize, refresh, verify, revoke, isAuthServer) and the /vedsdk/
 * resources, each answering with the documented status, reason phrase and body.
 */
import { TokenScope } from "@vedauth/core"
import { Clock, Duration, Effect, Either, Redacted } from "effect"
import type { GrantType, IntegrationConfig, UserConfig } from "./config.js"
import { userKey } from "./config.js"
import type { HandlerContext } from "./context.js"
import type { SimRequest, SimResponse } from "./http.js"
import { bearerToken, json, oauthError, parseJsonObject, stringField, text } from "./http.js"
import type { GrantRecord } from "./state.js"
import { dotNetDate, isoDate, newToken, unixTime } from "./tokens.js"

/** The reason phrase (and description) of every refusal of a refresh token. @internal */
export const spentRefreshReason = "Grant has been revoked, has expired, or the refresh token is invalid"
/** @internal */
export const invalidTokenDescription =
  "The access token provided is expired, revoked, malformed, or invalid for other reasons"
/** @internal */
export const missingBearer = "Authorization:Bearer parameter is missing or empty."

const findIntegration = (ctx: HandlerContext, clientId: string): IntegrationConfig | undefined =>
  ctx.config.integrations.find((integration) => integration.clientId.toLowerCase() === clientId.toLowerCase())

const seconds = (input: Duration.DurationInput): number => Duration.toMillis(Duration.decode(input))

// Whole seconds, so that `expires` and `refresh_until` state the instants the server enforces.
const wholeSecond = (millis: number): number => Math.floor(millis / 1000) * 1000

const grantBody = (grant: GrantRecord, now: number, state: string | undefined) => ({
  access_token: grant.accessToken,
  ...(grant.refreshToken === undefined ? {} : { refresh_token: grant.refreshToken }),
  // Floored, as TPP does (its 90-day default reads 7775999): never promise more than is left.
  expires_in: Math.floor((grant.accessExpires - now) / 1000),
  expires: unixTime(grant.accessExpires),
  token_type: "Bearer",
  scope: grant.scope,
  identity: grant.identity,
  ...(grant.refreshable ? { refresh_until: unixTime(grant.grantEnd) } : {}),
  ...(state === undefined ? {} : { state })
})

const withHtmlFault = (ctx: HandlerContext, response: SimResponse) =>
  Effect.map(ctx.faults.get, (faults): SimResponse =>
    faults.nonJsonBody === true && response.status === 200
      ? {
        ...text(200, "OK", "<html><body>Service temporarily unavailable</body></html>"),
        headers: { "content-type": "text/html" }
      }
      : response)

type AuthorizeInput =
  | { readonly _tag: "integrated"; readonly user: UserConfig }
  | { readonly _tag: "oauth" }

const grantLabels: Record<GrantType, string> = {
  integrated: "Windows integrated",
  oauth: "Password",
  certificate: "Certificate",
  jwt: "JWT",
  device: "Device"
}

/**
 * The checks every authorize starts with, in the order the documented causes suggest: client_id
 * present, known, and enabled for this grant type. The integration, or the refusal.
 * @internal
 */
export const checkClient = (
  ctx: HandlerContext,
  clientId: string | undefined,
  grantType: GrantType
): IntegrationConfig | SimResponse => {
  if (clientId === undefined || clientId === "") return oauthError("invalid_request", "client_id is required")
  const integration = findIntegration(ctx, clientId)
  if (integration === undefined) return oauthError("invalid_grant", "client_id does not match an API integration")
  if (!integration.grantTypes.includes(grantType)) {
    return oauthError("invalid_client", `${grantLabels[grantType]} authentication is disabled for this application`)
  }
  return integration
}

/** The scope asked for, checked against the integration's: the printed scope, or the refusal. @internal */
export const checkScope = (integration: IntegrationConfig, scopeText: string | undefined): string | SimResponse => {
  if (scopeText === undefined || scopeText.trim() === "") return oauthError("invalid_scope", "scope is required")
  const requested = TokenScope.parse(scopeText)
  if (Either.isLeft(requested)) return oauthError("invalid_scope", "The requested scope is malformed")
  const allowed = TokenScope.parse(integration.scope)
  if (Either.isLeft(allowed) || !TokenScope.isSubset(requested.right, allowed.right)) {
    return oauthError("invalid_scope", "The requested scope exceeds the scope of the application")
  }
  return TokenScope.print(requested.right)
}

/**
 * Issues a grant to `user` once the client checks passed: the user's access to the integration,
 * the scope (unless already checked), the identity claim, then a new grant.
 * @internal
 */
export const issue = (
  ctx: HandlerContext,
  integration: IntegrationConfig,
  user: UserConfig,
  scopeText: string | undefined,
  state: string | undefined
) =>
  Effect.gen(function*() {
    if (integration.users !== undefined && !integration.users.includes(userKey(user.domain, user.name))) {
      return oauthError("unauthorized_client", "The user is not authorized for this application")
    }
    const scope = checkScope(integration, scopeText)
    if (typeof scope !== "string") return scope
    if (user.unmappableIdentity) return text(401, "Unhandled identity claim type", "Unhandled identity claim type")
    if (user.grantFailure !== undefined) {
      const message = `Failed to issue grant: ${user.grantFailure}`
      return text(401, message, message)
    }
    const now = yield* Clock.currentTimeMillis
    const grantEnd = wholeSecond(now + seconds(integration.grantLifetime))
    const grant: GrantRecord = {
      id: 0,
      clientId: integration.clientId,
      user: userKey(user.domain, user.name),
      identity: user.identity,
      scope,
      grantIssuedAt: now,
      grantEnd,
      refreshable: integration.refresh,
      accessToken: newToken(),
      refreshToken: integration.refresh ? newToken() : undefined,
      accessIssuedAt: now,
      accessExpires: Math.min(grantEnd, wholeSecond(now + seconds(integration.tokenLifetime))),
      refreshCount: 0
    }
    yield* Effect.sync(() => {
      ctx.state.addGrant({ ...grant, id: ctx.state.nextGrantId++ }, now)
    })
    return yield* withHtmlFault(ctx, json(200, "OK", grantBody(grant, now, state)))
  })

/**
 * Authorize, shared by the integrated (Windows-authenticated `user`) and the password grant.
 * @internal
 */
export const authorize = (ctx: HandlerContext, request: SimRequest, input: AuthorizeInput) =>
  Effect.gen(function*() {
    const body = parseJsonObject(request.body)
    if (body === undefined) return oauthError("invalid_request", "The request body is not valid JSON")
    const integration = checkClient(ctx, stringField(body, "client_id"), input._tag)
    if ("status" in integration) return integration
    let user: UserConfig
    if (input._tag === "oauth") {
      const username = stringField(body, "username")
      const password = stringField(body, "password")
      const found = username === undefined ? undefined : lookupUser(ctx, username)
      if (found === undefined || password === undefined || password !== Redacted.value(found.password)) {
        return oauthError("invalid_grant", "Username or password is invalid")
      }
      user = found
    } else {
      user = input.user
    }
    return yield* issue(ctx, integration, user, stringField(body, "scope"), stringField(body, "state"))
  })

/** Finds a user by `DOMAIN\name`, `name@domain` or a bare name (default domain). @internal */
export const lookupUser = (ctx: HandlerContext, login: string): UserConfig | undefined => {
  const backslash = login.indexOf("\\")
  const at = login.lastIndexOf("@")
  const [domain, name] = backslash !== -1
    ? [login.slice(0, backslash), login.slice(backslash + 1)]
    : at !== -1
    ? [login.slice(at + 1), login.slice(0, at)]
    : [ctx.config.defaultDomain, login]
  return findUser(ctx, domain, name)
}

/** Domains match on their NetBIOS name or any DNS name that starts with it (CORP == corp.example). @internal */
export const findUser = (ctx: HandlerContext, domain: string, name: string): UserConfig | undefined => {
  const wantedDomain = (domain === "" ? ctx.config.defaultDomain : domain).toUpperCase().split(".")[0]
  return ctx.config.users.find((user) =>
    user.domain.toUpperCase() === wantedDomain && user.name.toUpperCase() === name.toUpperCase()
  )
}

/** POST vedauth/authorize/token: refresh, rotating both tokens. @internal */
export const refresh = (ctx: HandlerContext, request: SimRequest) =>
  Effect.gen(function*() {
    const body = parseJsonObject(request.body)
    if (body === undefined) return oauthError("invalid_request", "The request body is not valid JSON")
    const clientId = stringField(body, "client_id")
    if (clientId === undefined || clientId === "") return oauthError("invalid_request", "client_id is required")
    if (stringField(body, "grant_type") !== undefined || stringField(body, "device_code") !== undefined) {
      // A device poll sent as JSON (the device flow is form-encoded): not a refresh either.
      return oauthError("invalid_grant", "device_code is expired or invalid")
    }
    const refreshToken = stringField(body, "refresh_token")
    if (refreshToken === undefined || refreshToken === "") {
      return oauthError("invalid_request", "refresh_token is required")
    }
    const now = yield* Clock.currentTimeMillis
    const outcome = yield* Effect.sync(() => {
      const id = ctx.state.byRefresh.get(refreshToken)
      const grant = id === undefined ? undefined : ctx.state.grants.get(id)
      if (grant === undefined) {
        return oauthError("invalid_grant", spentRefreshReason)
      }
      if (now >= grant.grantEnd) {
        ctx.state.removeGrant(grant)
        return oauthError("invalid_grant", spentRefreshReason)
      }
      if (grant.clientId.toLowerCase() !== clientId.toLowerCase()) {
        return oauthError("invalid_grant", "client_id does not match the grant")
      }
      const integration = findIntegration(ctx, grant.clientId)
      const lifetime = integration === undefined ? 0 : seconds(integration.tokenLifetime)
      // Rotate: the old pair dies in the same step that creates the new one.
      ctx.state.removeGrant(grant)
      grant.accessToken = newToken()
      grant.refreshToken = newToken()
      grant.accessIssuedAt = now
      grant.accessExpires = Math.min(grant.grantEnd, wholeSecond(now + lifetime))
      grant.refreshCount++
      ctx.state.addGrant(grant, now)
      return json(200, "OK", grantBody(grant, now, undefined))
    })
    return yield* withHtmlFault(ctx, outcome)
  })

const liveGrant = (ctx: HandlerContext, token: string, now: number): GrantRecord | undefined => {
  const id = ctx.state.byAccess.get(token)
  const grant = id === undefined ? undefined : ctx.state.grants.get(id)
  return grant !== undefined && now < grant.accessExpires && now < grant.grantEnd ? grant : undefined
}

const invalidToken = (): SimResponse =>
  json(401, "Unauthorized", { error: "invalid_token", error_description: invalidTokenDescription })

/** GET vedauth/authorize/verify. @internal */
export const verify = (ctx: HandlerContext, request: SimRequest) =>
  Effect.gen(function*() {
    const token = bearerToken(request.headers)
    if (token === undefined) {
      return json(401, missingBearer, { error: "invalid_request", error_description: missingBearer })
    }
    const now = yield* Clock.currentTimeMillis
    const grant = liveGrant(ctx, token, now)
    if (grant === undefined) {
      return invalidToken()
    }
    return yield* withHtmlFault(
      ctx,
      json(200, "Token is valid", {
        access_issued_on: dotNetDate(grant.accessIssuedAt),
        access_issued_on_ISO8601: isoDate(grant.accessIssuedAt),
        access_issued_on_unix_time: unixTime(grant.accessIssuedAt),
        application: grant.clientId,
        expires: dotNetDate(grant.grantEnd),
        expires_ISO8601: isoDate(grant.grantEnd),
        expires_unix_time: unixTime(grant.grantEnd),
        grant_issued_on: dotNetDate(grant.grantIssuedAt),
        grant_issued_on_ISO8601: isoDate(grant.grantIssuedAt),
        grant_issued_on_unix_time: unixTime(grant.grantIssuedAt),
        identity: grant.identity,
        scope: grant.scope,
        valid_for: Math.floor((grant.accessExpires - now) / 1000)
      })
    )
  })

/** GET vedauth/revoke/token: kills the whole grant (access and refresh token). @internal */
export const revoke = (ctx: HandlerContext, request: SimRequest) =>
  Effect.gen(function*() {
    const token = bearerToken(request.headers)
    if (token === undefined) {
      return json(401, missingBearer, { error: "invalid_request", error_description: missingBearer })
    }
    const now = yield* Clock.currentTimeMillis
    return yield* Effect.sync(() => {
      const grant = liveGrant(ctx, token, now)
      // The token itself is never echoed: it is a secret, and this text reaches logs.
      if (grant === undefined) {
        return json(202, "[token] not found", {})
      }
      ctx.state.removeGrant(grant)
      return json(200, `Grant for identity [${grant.identity}] with scope [${grant.scope}] has been revoked`, {})
    })
  })

/** A /vedsdk/ resource: 401 without a live token, 403 "Grant rejected scope" without `needs`. @internal */
export const resource = (ctx: HandlerContext, request: SimRequest, needs: string | undefined, answer: unknown) =>
  Effect.gen(function*() {
    const token = bearerToken(request.headers)
    const now = yield* Clock.currentTimeMillis
    const grant = token === undefined ? undefined : liveGrant(ctx, token, now)
    if (grant === undefined) return invalidToken()
    if (needs !== undefined) {
      const granted = TokenScope.parse(grant.scope)
      const wanted = TokenScope.parse(needs)
      if (Either.isLeft(granted) || Either.isLeft(wanted) || !TokenScope.isSubset(wanted.right, granted.right)) {
        const message = `Grant rejected scope '${needs}'`
        return json(403, message, { Error: message })
      }
    }
    return json(200, "OK", answer)
  })
