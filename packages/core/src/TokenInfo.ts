/**
 * What `GET vedauth/authorize/verify` says about an access token.
 *
 * @since 0.1.0
 */
import { DateTime, Duration, Effect, Option, Schema } from "effect"
import * as Grant from "./Grant.js"
import { clampedInstant } from "./internal/instant.js"

// "/Date(1590000000000)/" as .NET's JSON serializer writes instants.
const dotNetDate = /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/

const instant = (
  unix: number | null | undefined,
  dotNet: string | null | undefined,
  iso: string | null | undefined
): Option.Option<DateTime.Utc> => {
  if (unix != null && unix > 0) return Option.some(clampedInstant(unix * 1000))
  const match = dotNet == null ? null : dotNetDate.exec(dotNet)
  if (match?.[1] !== undefined && Number(match[1]) > 0) return Option.some(clampedInstant(Number(match[1])))
  return iso == null ? Option.none() : DateTime.make(iso)
}

/**
 * The verify response as it travels. Every field is optional and unknown fields are ignored.
 *
 * @since 0.1.0
 * @category schemas
 */
export class VerifyResponse extends Schema.Class<VerifyResponse>("@vedauth/core/VerifyResponse")({
  application: Schema.optional(Schema.NullOr(Schema.String)),
  identity: Schema.optional(Schema.NullOr(Schema.String)),
  scope: Schema.optional(Schema.NullOr(Schema.String)),
  // Bounded: a `valid_for` of 1e300 seconds is no answer, and would overflow every date computed from it.
  valid_for: Schema.optional(
    Schema.NullOr(Schema.Number.pipe(Schema.finite(), Schema.lessThanOrEqualTo(Duration.toSeconds(Grant.maxLifetime))))
  ),
  access_issued_on: Schema.optional(Schema.NullOr(Schema.String)),
  access_issued_on_ISO8601: Schema.optional(Schema.NullOr(Schema.String)),
  access_issued_on_unix_time: Schema.optional(Schema.NullOr(Schema.Number)),
  grant_issued_on: Schema.optional(Schema.NullOr(Schema.String)),
  grant_issued_on_ISO8601: Schema.optional(Schema.NullOr(Schema.String)),
  grant_issued_on_unix_time: Schema.optional(Schema.NullOr(Schema.Number)),
  expires: Schema.optional(Schema.NullOr(Schema.String)),
  expires_ISO8601: Schema.optional(Schema.NullOr(Schema.String)),
  expires_unix_time: Schema.optional(Schema.NullOr(Schema.Number))
}) {}

/**
 * A verified token: who it belongs to, what it may do, and how long it and its grant last.
 *
 * @since 0.1.0
 * @category models
 */
export class TokenInfo extends Schema.Class<TokenInfo>("@vedauth/core/TokenInfo")({
  application: Schema.String,
  identity: Schema.String,
  scope: Schema.String,
  validFor: Schema.Duration,
  expiresAt: Schema.DateTimeUtc,
  accessIssuedOn: Schema.OptionFromNullOr(Schema.DateTimeUtc),
  grantIssuedOn: Schema.OptionFromNullOr(Schema.DateTimeUtc),
  /** The end of the GRANT (none when it never ends); the access token ends at `expiresAt`. */
  grantExpires: Schema.OptionFromNullOr(Schema.DateTimeUtc)
}) {}

/**
 * Builds `TokenInfo` from a verify response received at `now`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fromResponse = (response: VerifyResponse, now: DateTime.Utc): TokenInfo => {
  const validFor = Duration.seconds(Math.max(0, response.valid_for ?? 0))
  return new TokenInfo({
    application: response.application ?? "",
    identity: response.identity ?? "",
    scope: response.scope ?? "",
    validFor,
    expiresAt: clampedInstant(DateTime.toEpochMillis(now) + Duration.toMillis(validFor)),
    accessIssuedOn: instant(
      response.access_issued_on_unix_time,
      response.access_issued_on,
      response.access_issued_on_ISO8601
    ),
    grantIssuedOn: instant(
      response.grant_issued_on_unix_time,
      response.grant_issued_on,
      response.grant_issued_on_ISO8601
    ),
    grantExpires: instant(response.expires_unix_time, response.expires, response.expires_ISO8601)
  })
}

/**
 * Decodes a verify body and stamps it with the current time from `Clock`.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeResponse = (body: unknown) =>
  Effect.flatMap(
    Schema.decodeUnknown(VerifyResponse, { onExcessProperty: "ignore" })(body),
    (response) => Effect.map(DateTime.now, (now) => fromResponse(response, now))
  )
