/**
 * A grant from VEDauth: the access token, the refresh token when the integration allows refresh,
 * and their lifetimes as absolute instants computed from Effect's `Clock` when the grant arrived.
 *
 * @since 0.1.0
 */
import { DateTime, Duration, Effect, Option, ParseResult, Redacted, Schema } from "effect"
import { clampedInstant } from "./internal/instant.js"

/**
 * The longest lifetime of an access token or a grant vedauth believes: a server that says more is
 * broken (or hostile), and the arithmetic of such instants is where a program would die.
 *
 * @since 0.1.0
 * @category constants
 */
export const maxLifetime: Duration.Duration = Duration.days(3650)

const maxLifetimeSeconds = Duration.toSeconds(maxLifetime)

/**
 * What a token is: printable base64-like text (base64, base64url, a JWT's dots), at most 16 KiB.
 * Anything else (spaces, control characters, a megabyte) is not a token to send in a header.
 *
 * @since 0.1.0
 * @category schemas
 */
export const TokenText: Schema.Schema<string> = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9+/=._~-]+$/),
  Schema.maxLength(16 * 1024)
)

// Seconds or unix time from the wire: a finite number (JSON can say 1e300, never NaN, but be sure).
const WireNumber = Schema.Number.pipe(Schema.finite())

/**
 * The grant response as it travels (snake_case JSON). Tolerant: only `access_token` is required,
 * unknown fields are ignored, older servers may omit `expires_in`, `refresh_until` and `refresh_token`.
 *
 * @since 0.1.0
 * @category schemas
 */
export class GrantResponse extends Schema.Class<GrantResponse>("@vedauth/core/GrantResponse")({
  access_token: Schema.Redacted(TokenText),
  // An empty refresh token is no refresh token.
  refresh_token: Schema.optional(Schema.NullOr(Schema.Redacted(Schema.Union(Schema.Literal(""), TokenText)))),
  expires_in: Schema.optional(
    Schema.NullOr(WireNumber.pipe(Schema.positive(), Schema.lessThanOrEqualTo(maxLifetimeSeconds)))
  ),
  expires: Schema.optional(Schema.NullOr(WireNumber)),
  token_type: Schema.optional(Schema.NullOr(Schema.String)),
  scope: Schema.optional(Schema.NullOr(Schema.String)),
  identity: Schema.optional(Schema.NullOr(Schema.String)),
  refresh_until: Schema.optional(Schema.NullOr(WireNumber)),
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
    refreshToken: Option.filter(Option.fromNullable(response.refresh_token), (token) => Redacted.value(token) !== ""),
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
 * Why a grant just received cannot be used, if it cannot: its access token or the grant itself has
 * already ended, or it claims to last longer than `maxLifetime`.
 *
 * @since 0.1.0
 * @category validation
 */
export const refusal = (self: Grant): string | undefined => {
  const limit = DateTime.addDuration(self.issuedAt, maxLifetime)
  if (!DateTime.greaterThan(self.expiresAt, self.issuedAt)) return "an access token that has already expired"
  if (DateTime.greaterThan(self.expiresAt, limit)) {
    return `an access token said to last longer than ${Duration.format(maxLifetime)}`
  }
  if (Option.isNone(self.refreshUntil)) return undefined
  if (!DateTime.greaterThan(self.refreshUntil.value, self.issuedAt)) {
    return "a grant that has already ended (refresh_until)"
  }
  if (DateTime.greaterThan(self.refreshUntil.value, limit)) {
    return `a grant said to last longer than ${Duration.format(maxLifetime)}`
  }
  return undefined
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
 * Decodes a grant response body and stamps it with the current time from `Clock`; a grant that
 * `refusal` refuses is a `ParseError` too.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeResponse = (body: unknown): Effect.Effect<Grant, ParseResult.ParseError> =>
  Effect.flatMap(decodeWire(body), (response) =>
    Effect.flatMap(DateTime.now, (now) => {
      const grant = fromResponse(response, now)
      const refused = refusal(grant)
      return refused === undefined
        ? Effect.succeed(grant)
        : Effect.fail(
          new ParseResult.ParseError({ issue: new ParseResult.Type(GrantResponse.ast, body, `refused: ${refused}`) })
        )
    }))

/**
 * The access token, for an `Authorization: Bearer` header.
 *
 * @since 0.1.0
 * @category getters
 */
export const bearer = (self: Grant): string => `Bearer ${Redacted.value(self.accessToken)}`
