/**
 * A grant from VEDauth: the access token, the refresh token when the integration allows refresh,
 * and their lifetimes as absolute instants computed from Effect's `Clock` when the grant arrived.
 *
 * @since 0.1.0
 */
import type { ParseResult } from "effect"
import { DateTime, Duration, Effect, Option, Redacted, Schema } from "effect"
import { clampedInstant } from "./internal/instant.js"

/**
 * The grant response as it travels (snake_case JSON). Tolerant: only `access_token` is required,
 * unknown fields are ignored, older servers may omit `expires_in`, `refresh_until` and `refresh_token`.
 *
 * @since 0.1.0
 * @category schemas
 */
export class GrantResponse extends Schema.Class<GrantResponse>("@vedauth/core/GrantResponse")({
  access_token: Schema.Redacted(Schema.NonEmptyString),
  refresh_token: Schema.optional(Schema.NullOr(Schema.Redacted(Schema.String))),
  expires_in: Schema.optional(Schema.NullOr(Schema.Number)),
  expires: Schema.optional(Schema.NullOr(Schema.Number)),
  token_type: Schema.optional(Schema.NullOr(Schema.String)),
  scope: Schema.optional(Schema.NullOr(Schema.String)),
  identity: Schema.optional(Schema.NullOr(Schema.String)),
  refresh_until: Schema.optional(Schema.NullOr(Schema.Number)),
  state: Schema.optional(Schema.NullOr(Schema.String))
}) {}

/**
 * A grant, as vedauth keeps it. `refreshUntil` is the end of the grant (after it a new authorize is
 * needed); `expiresAt` is the end of this access token.
 *
 * @since 0.1.0
 * @category models
 */
export class Grant extends Schema.Class<Grant>("@vedauth/core/Grant")({
  accessToken: Schema.Redacted(Schema.String),
  refreshToken: Schema.OptionFromNullOr(Schema.Redacted(Schema.String)),
  tokenType: Schema.String,
  scope: Schema.String,
  identity: Schema.String,
  issuedAt: Schema.DateTimeUtc,
  expiresAt: Schema.DateTimeUtc,
  refreshUntil: Schema.OptionFromNullOr(Schema.DateTimeUtc)
}) {
  /** True when the server will still exchange the refresh token at `now`. */
  canRefreshAt(now: DateTime.Utc): boolean {
    return Option.isSome(this.refreshToken) &&
      Option.match(this.refreshUntil, { onNone: () => true, onSome: (end) => DateTime.lessThan(now, end) })
  }
}

/**
 * When neither `expires_in` nor `expires` is given, assume the access token lasts this long: short
 * enough that a token is refreshed long before TPP's real default (90 days) could surprise us.
 *
 * @since 0.1.0
 * @category constants
 */
export const assumedLifetime: Duration.Duration = Duration.hours(1)

/**
 * Builds a `Grant` from a response received at `now`: expiry is `now + expires_in`, or the absolute
 * `expires` when the server sent no `expires_in`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromResponse = (response: GrantResponse, now: DateTime.Utc): Grant => {
  const expiresAt = response.expires_in != null
    ? clampedInstant(DateTime.toEpochMillis(now) + response.expires_in * 1000)
    : response.expires != null
    ? clampedInstant(response.expires * 1000)
    : DateTime.addDuration(now, assumedLifetime)
  return new Grant({
    accessToken: response.access_token,
    refreshToken: Option.fromNullable(response.refresh_token),
    tokenType: response.token_type ?? "Bearer",
    scope: response.scope ?? "",
    identity: response.identity ?? "",
    issuedAt: now,
    expiresAt,
    // 0 or a missing value means the grant does not end on its own.
    refreshUntil: response.refresh_until ? Option.some(clampedInstant(response.refresh_until * 1000)) : Option.none()
  })
}

/**
 * Decodes a grant response body as it travels (unknown fields ignored), without stamping it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeWire: (body: unknown) => Effect.Effect<GrantResponse, ParseResult.ParseError> = Schema.decodeUnknown(
  GrantResponse,
  { onExcessProperty: "ignore" }
)

/**
 * Decodes a grant response body and stamps it with the current time from `Clock`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeResponse = (body: unknown): Effect.Effect<Grant, ParseResult.ParseError> =>
  Effect.flatMap(decodeWire(body), (response) => Effect.map(DateTime.now, (now) => fromResponse(response, now)))

/**
 * The access token, for an `Authorization: Bearer` header.
 *
 * @since 0.1.0
 * @category getters
 */
export const bearer = (self: Grant): string => `Bearer ${Redacted.value(self.accessToken)}`
