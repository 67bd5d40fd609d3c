import { DateTime, Duration, Option } from "effect"
import type { Grant } from "../Grant.js"

/**
 * What a grant is good for at a given instant:
 * - `fresh`: hand out the access token as it is;
 * - `renew`: refresh it (or, when it cannot be refreshed, authorize again);
 * - `ended`: the grant is past `refresh_until`: only a new authorize helps.
 *
 * @internal
 */
export type Freshness = "fresh" | "renew" | "ended"

const minWindow = Duration.seconds(30)
const maxWindow = Duration.minutes(5)

/**
 * How long before expiry a refresh is due: the configured window, else 10% of the token's
 * lifetime, clamped to [30 seconds, 5 minutes].
 *
 * @internal
 */
export const refreshWindow = (grant: Grant, configured: Duration.DurationInput | undefined): Duration.Duration => {
  if (configured !== undefined) return Duration.decode(configured)
  const lifetime = DateTime.distanceDuration(grant.issuedAt, grant.expiresAt)
  return Duration.clamp(Duration.unsafeDivide(lifetime, 10), { minimum: minWindow, maximum: maxWindow })
}

/**
 * Classifies a grant at `now`. A grant that cannot be refreshed (no refresh token) stays fresh until
 * its access token expires: there is nothing to gain by asking earlier.
 *
 * @internal
 */
export const freshness = (grant: Grant, now: DateTime.Utc, configured: Duration.DurationInput | undefined): Freshness => {
  if (Option.exists(grant.refreshUntil, (end) => DateTime.greaterThanOrEqualTo(now, end))) return "ended"
  if (!DateTime.greaterThanOrEqualTo(now, grant.expiresAt) && Option.isNone(grant.refreshToken)) return "fresh"
  const dueAt = DateTime.subtractDuration(grant.expiresAt, refreshWindow(grant, configured))
  return DateTime.lessThan(now, dueAt) ? "fresh" : "renew"
}

/**
 * The instant (epoch millis) before which `freshness` says "fresh": computed once per grant so the
 * managed token's hot path compares two numbers instead of doing date arithmetic on every call.
 *
 * @internal
 */
export const freshUntilMillis = (grant: Grant, configured: Duration.DurationInput | undefined): number => {
  const end = Option.match(grant.refreshUntil, { onNone: () => Infinity, onSome: DateTime.toEpochMillis })
  const until = Option.isNone(grant.refreshToken)
    ? DateTime.toEpochMillis(grant.expiresAt)
    : DateTime.toEpochMillis(grant.expiresAt) - Duration.toMillis(refreshWindow(grant, configured))
  return Math.min(end, until)
}
