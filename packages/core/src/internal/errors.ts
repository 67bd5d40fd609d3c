import { boundText } from "@vedauth/winauth/PeerText"
import { Redacted } from "effect"
import * as VedAuthError from "../VedAuthError.js"

/**
 * Which call a response answers: the same status means different things on different endpoints
 * (a 401 on authorize is a grant refusal, a 401 on verify or a resource is a bad token).
 *
 * @internal
 */
export type Endpoint = "authorize" | "refresh" | "verify" | "revoke" | "isAuthServer" | "resource"

/**
 * A non-success answer, reduced to what the mapping needs.
 *
 * @internal
 */
export interface Failure {
  readonly endpoint: Endpoint
  readonly status: number
  readonly reason: string
  readonly body: string
  /** Every secret that travelled in the request: scrubbed from whatever text the error keeps. */
  readonly secrets: ReadonlyArray<Redacted.Redacted<string>>
}

/**
 * Removes every known secret from text that came from the server (a reason phrase such as
 * "[token] not found" may echo the very token that was sent) and bounds its length.
 *
 * @internal
 */
export const scrub = (text: string, secrets: ReadonlyArray<Redacted.Redacted<string>>): string => {
  let clean = text
  for (const secret of secrets) {
    const value = Redacted.value(secret)
    if (value.length > 0) clean = clean.split(value).join("<redacted>")
  }
  // Descriptions are for people; a server that sends a novel keeps the first part.
  return boundText(clean)
}

const oauthErrors = {
  invalid_client: VedAuthError.InvalidClient,
  invalid_request: VedAuthError.InvalidRequest,
  invalid_scope: VedAuthError.InvalidScope,
  invalid_grant: VedAuthError.InvalidGrant,
  unauthorized_client: VedAuthError.UnauthorizedClient
} as const

interface OAuthBody {
  readonly error?: string
  readonly error_description?: string
}

/** @internal */
export const parseOAuthBody = (body: string): OAuthBody | undefined => {
  try {
    const json: unknown = JSON.parse(body)
    if (typeof json !== "object" || json === null) return undefined
    const record = json as Record<string, unknown>
    return {
      ...(typeof record.error === "string" ? { error: record.error } : {}),
      ...(typeof record.error_description === "string" ? { error_description: record.error_description } : {})
    }
  } catch {
    return undefined
  }
}

const rejectedScopePattern = /Grant rejected scope '([^']*)'/i
const grantIssuePattern = /Failed to issue grant/i
const identityClaimPattern = /Unhandled identity claim type/i
// The reason phrase VEDauth gives a spent, revoked or expired refresh token.
const spentGrantPattern = /Grant has been revoked, has expired, or the refresh token is invalid/i

/**
 * Parses the scope out of "Grant rejected scope '...'".
 *
 * @internal
 */
export const rejectedScope = (text: string): string | undefined => rejectedScopePattern.exec(text)?.[1]

/**
 * Turns a documented refusal into its tagged error, and anything else into `UnexpectedResponse`.
 * The body is never copied into an `UnexpectedResponse`: a body we could not understand might hold a
 * token. Only the server's `error_description`, 401 texts and reason phrases are kept, scrubbed.
 *
 * @internal
 */
export const fromFailure = (failure: Failure): VedAuthError.VedAuthError => {
  const { body, endpoint, secrets, status } = failure
  const reason = scrub(failure.reason, secrets)
  const details = (description: string | undefined) => ({
    ...(description === undefined || description === "" ? {} : { description: scrub(description, secrets) }),
    ...(reason === "" ? {} : { reason }),
    status
  })
  const oauth = parseOAuthBody(body)
  if (status === 400) {
    const code = oauth?.error?.toLowerCase()
    if (code !== undefined && code in oauthErrors) {
      return new oauthErrors[code as keyof typeof oauthErrors](details(oauth?.error_description))
    }
    if (endpoint === "refresh" && spentGrantPattern.test(failure.reason)) {
      return new VedAuthError.InvalidGrant(details(oauth?.error_description))
    }
    return new VedAuthError.UnexpectedResponse({
      ...details(undefined),
      detail: code === undefined
        ? `HTTP 400 from ${endpoint} without a documented error code`
        // Scrub the code as sent: its lower-cased form would hide a secret from `scrub`.
        : `HTTP 400 from ${endpoint} with the undocumented error code '${scrub(oauth?.error ?? code, secrets)}'`
    })
  }
  const text = oauth === undefined ? body.trim() : ""
  // 403 (a 401 before TPP 20.4): "Grant rejected scope '...'" in the body or the reason phrase.
  const insufficientScope = () => {
    const scope = rejectedScope(body) ?? rejectedScope(failure.reason)
    return new VedAuthError.InsufficientScope({
      ...details(oauth?.error_description ?? (scope === undefined ? undefined : `Grant rejected scope '${scope}'`)),
      ...(scope === undefined ? {} : { rejectedScope: scrub(scope, secrets) })
    })
  }
  if (status === 401) {
    const said = `${text} ${failure.reason}`
    if (grantIssuePattern.test(said)) return new VedAuthError.GrantIssueFailed(details(text || failure.reason))
    if (identityClaimPattern.test(said)) return new VedAuthError.UnhandledIdentityClaim(details(text || failure.reason))
    if (endpoint !== "authorize" && rejectedScopePattern.test(said)) return insufficientScope()
    if (endpoint === "verify" || endpoint === "revoke" || endpoint === "resource") {
      return new VedAuthError.InvalidToken(details(oauth?.error_description ?? (text || undefined)))
    }
  }
  if (status === 403) return insufficientScope()
  return new VedAuthError.UnexpectedResponse({
    ...details(undefined),
    detail: `HTTP ${status} from ${endpoint} is not a documented answer`
  })
}

/**
 * A 200 whose body did not decode. Says what went wrong, never what the body held.
 *
 * @internal
 */
export const undecodable = (
  endpoint: Endpoint,
  status: number,
  reason: string,
  what: string,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
): VedAuthError.UnexpectedResponse =>
  new VedAuthError.UnexpectedResponse({
    ...(reason === "" ? {} : { reason: scrub(reason, secrets) }),
    status,
    detail: `the ${endpoint} response is not ${what} (body withheld: it may hold a token)`
  })
