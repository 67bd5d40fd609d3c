/**
 * Every outcome of a VEDauth call that is not a success, one tagged error each.
 *
 * Each error keeps what the server said (`description` from `error_description`, the HTTP `reason`
 * phrase, the `status`) so that callers can act on it. None of them holds a secret: tokens,
 * passwords and device codes never reach an error field, its message, `toString` or JSON.
 *
 * @since 0.1.0
 */
import { Predicate, Schema } from "effect"

/**
 * Marks every vedauth error, so that `isVedAuthError` tells them from anything else with a `_tag`.
 *
 * @since 0.1.0
 * @category symbols
 */
export const TypeId: unique symbol = Symbol.for("@vedauth/core/VedAuthError")

/**
 * @since 0.1.0
 * @category symbols
 */
export type TypeId = typeof TypeId

/**
 * What the server said about a refusal. All optional: a dropped connection says nothing.
 *
 * @since 0.1.0
 * @category fields
 */
export const ServerDetails = {
  /** The server's `error_description`, or the text body of a 401. */
  description: Schema.optional(Schema.String),
  /** The HTTP reason phrase, which TPP often uses to carry the message. */
  reason: Schema.optional(Schema.String),
  /** The HTTP status code. */
  status: Schema.optional(Schema.Number)
}

// The message says what happened, without the tag: `String(error)` and Effect's failure report print
// `<name>: <message>`, and the name is the tag, so a tag in the message too would show it twice.
const describe = (
  self: {
    readonly description?: string | undefined
    readonly reason?: string | undefined
    readonly status?: number | undefined
  },
  fallback: string
): string => {
  const text = self.description ?? self.reason ?? fallback
  return self.status === undefined ? text : `${text} (HTTP ${self.status})`
}

/**
 * HTTP 400 `invalid_client`: browser-based authentication is disabled for the integration.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidClient extends Schema.TaggedError<InvalidClient>("@vedauth/core/InvalidClient")(
  "InvalidClient",
  ServerDetails
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe(this, "the client is not allowed to use this grant")
  }
}

/**
 * HTTP 400 `invalid_request`: `client_id` missing, a body the server could not read, or an internal error.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>("@vedauth/core/InvalidRequest")(
  "InvalidRequest",
  ServerDetails
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe(this, "the server could not process the request")
  }
}

/**
 * HTTP 400 `invalid_scope`: the scope is missing, malformed, or beyond the integration's scope.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidScope extends Schema.TaggedError<InvalidScope>("@vedauth/core/InvalidScope")(
  "InvalidScope",
  ServerDetails
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe(this, "the requested scope was refused")
  }
}

/**
 * HTTP 400 `invalid_grant`: bad credentials, a client_id that does not match, or a refresh token that
 * is spent, revoked or past the grant's end.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidGrant extends Schema.TaggedError<InvalidGrant>("@vedauth/core/InvalidGrant")(
  "InvalidGrant",
  ServerDetails
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe(this, "the grant was refused or has ended")
  }
}

/**
 * HTTP 400 `unauthorized_client`: the user is not allowed to use this integration or grant type.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnauthorizedClient extends Schema.TaggedError<UnauthorizedClient>("@vedauth/core/UnauthorizedClient")(
  "UnauthorizedClient",
  ServerDetails
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe(this, "the user is not authorized for this grant type")
  }
}

/**
 * HTTP 401 with the text `Failed to issue grant: [error]`.
 *
 * @since 0.1.0
 * @category errors
 */
export class GrantIssueFailed extends Schema.TaggedError<GrantIssueFailed>("@vedauth/core/GrantIssueFailed")(
  "GrantIssueFailed",
  ServerDetails
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe(this, "Failed to issue grant")
  }
}

/**
 * HTTP 401 with the text `Unhandled identity claim type`: the server cannot map the user's identity.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnhandledIdentityClaim extends Schema.TaggedError<UnhandledIdentityClaim>(
  "@vedauth/core/UnhandledIdentityClaim"
)("UnhandledIdentityClaim", ServerDetails) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe(this, "Unhandled identity claim type")
  }
}

/**
 * HTTP 401 on verify or on a resource: the access token is expired, revoked, malformed or missing.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidToken extends Schema.TaggedError<InvalidToken>("@vedauth/core/InvalidToken")(
  "InvalidToken",
  ServerDetails
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe(this, "the access token is expired, revoked or invalid")
  }
}

/**
 * HTTP 403 (a 401 before TPP 20.4): the token lacks the scope the resource needs. `rejectedScope` is
 * parsed from the server's `Grant rejected scope '...'`.
 *
 * @since 0.1.0
 * @category errors
 */
export class InsufficientScope extends Schema.TaggedError<InsufficientScope>("@vedauth/core/InsufficientScope")(
  "InsufficientScope",
  { ...ServerDetails, rejectedScope: Schema.optional(Schema.String) }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const scope = this.rejectedScope === undefined ? "" : ` (needs '${this.rejectedScope}')`
    return describe(this, "the token lacks the scope this call needs") + scope
  }
}

/**
 * Windows authentication rejected the credentials (a bare `WWW-Authenticate` challenge after AUTHENTICATE).
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationFailed extends Schema.TaggedError<AuthenticationFailed>(
  "@vedauth/core/AuthenticationFailed"
)("AuthenticationFailed", { ...ServerDetails, user: Schema.optional(Schema.String) }) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const who = this.user === undefined ? "" : ` for ${this.user}`
    return describe(this, `the server rejected the Windows credentials${who}`)
  }
}

/**
 * The NTLM or Negotiate exchange could not proceed: no usable scheme offered, a malformed or
 * unsupported CHALLENGE (NTLMv1 only), a connection that closed mid-handshake.
 *
 * @since 0.1.0
 * @category errors
 */
export class NtlmProtocolError extends Schema.TaggedError<NtlmProtocolError>("@vedauth/core/NtlmProtocolError")(
  "NtlmProtocolError",
  { ...ServerDetails, detail: Schema.String }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return this.detail
  }
}

/**
 * A Kerberos exchange that failed for a reason other than rejected credentials (those are
 * `AuthenticationFailed`) or an unreachable KDC (`TransportError`): the protocol's error name (RFC
 * 4120 section 7.5.9, e.g. `KDC_ERR_S_PRINCIPAL_UNKNOWN`, or a local one such as `MALFORMED` or
 * `KRB_AP_ERR_MUT_FAIL`), what happened, and a hint when the user can fix it. Never holds a key,
 * password or ticket. Also exported as `KerberosError.KerberosError`.
 *
 * @since 0.2.0
 * @category errors
 */
export class KerberosError extends Schema.TaggedError<KerberosError>("@vedauth/core/KerberosError")("KerberosError", {
  /**
   * The protocol's error name (`KRB_AP_ERR_SKEW`), or a local name for failures found on this side
   * (`NO_CREDENTIALS`). Not `name`, which is `Error`'s own (`"KerberosError"`).
   */
  reason: Schema.String,
  /** The protocol's error code, when a peer sent one. */
  code: Schema.optional(Schema.Number),
  detail: Schema.String,
  /** What the user can change to fix it. */
  hint: Schema.optional(Schema.String)
}) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    const hint = this.hint === undefined ? "" : ` (${this.hint})`
    return `${this.reason}: ${this.detail}${hint}`
  }
}

/**
 * The request did not complete: DNS, connection refused or reset, TLS failure, timeout.
 *
 * @since 0.1.0
 * @category errors
 */
export class TransportError extends Schema.TaggedError<TransportError>("@vedauth/core/TransportError")(
  "TransportError",
  {
    detail: Schema.String,
    url: Schema.optional(Schema.String),
    /**
     * `false` when the request is known never to have reached the server (the connection was
     * refused, the name did not resolve, TLS did not verify), so nothing in it was spent (a refresh
     * token stays good); absent when it may have (a reset, a timeout after sending).
     */
    requestSent: Schema.optional(Schema.Boolean)
  }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return this.url === undefined ? this.detail : `${this.detail} (${this.url})`
  }
}

/**
 * A status the documentation does not list, or a body that does not decode as it should.
 *
 * @since 0.1.0
 * @category errors
 */
export class UnexpectedResponse extends Schema.TaggedError<UnexpectedResponse>("@vedauth/core/UnexpectedResponse")(
  "UnexpectedResponse",
  { ...ServerDetails, detail: Schema.String }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return describe({ ...this, description: this.detail }, this.detail)
  }
}

/**
 * The token store could not be read or written, or its file is corrupt or of another format.
 * The file is never overwritten when this happens: the grant in it is not lost.
 *
 * @since 0.1.0
 * @category errors
 */
export class TokenStoreError extends Schema.TaggedError<TokenStoreError>("@vedauth/core/TokenStoreError")(
  "TokenStoreError",
  { detail: Schema.String, path: Schema.optional(Schema.String) }
) {
  readonly [TypeId]: TypeId = TypeId
  override get message(): string {
    return this.path === undefined ? this.detail : `${this.detail} (${this.path})`
  }
}

const serverRefusals = [
  InvalidClient,
  InvalidRequest,
  InvalidScope,
  InvalidGrant,
  UnauthorizedClient,
  GrantIssueFailed,
  UnhandledIdentityClaim,
  InvalidToken,
  InsufficientScope
] as const

// Every error class, written once: the union type, its schema and the guard all come from here.
const errorClasses = [
  ...serverRefusals,
  AuthenticationFailed,
  NtlmProtocolError,
  KerberosError,
  TransportError,
  UnexpectedResponse,
  TokenStoreError
] as const

/**
 * The refusals the server documents for its own endpoints (exit code 2 in the CLI).
 *
 * @since 0.1.0
 * @category models
 */
export type ServerRefusal = InstanceType<typeof serverRefusals[number]>

/**
 * Every error a vedauth operation can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type VedAuthError = InstanceType<typeof errorClasses[number]>

/**
 * The schema of every vedauth error, e.g. to send errors across a worker or RPC boundary.
 *
 * @since 0.1.0
 * @category schemas
 */
export const VedAuthError: Schema.Union<typeof errorClasses> = Schema.Union(...errorClasses)

/**
 * True for any vedauth error (and nothing else, whatever its `_tag`).
 *
 * @since 0.1.0
 * @category guards
 */
export const isVedAuthError = (u: unknown): u is VedAuthError => Predicate.hasProperty(u, TypeId)

const serverRefusalTags: ReadonlySet<string> = new Set(serverRefusals.map((error) => error._tag))

/**
 * True for a refusal the server documents for its own endpoints (`InvalidScope`, `InvalidGrant`, ...).
 *
 * @since 0.1.0
 * @category guards
 */
export const isServerRefusal = (u: unknown): u is ServerRefusal => isVedAuthError(u) && serverRefusalTags.has(u._tag)
