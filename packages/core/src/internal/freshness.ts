import { DateTime, Duration, Option } from "effect"
import type { Grant } from "../Grant.js"
import * as Format from "../TokenStoreFormat.js"

/**
 * What a grant is good for at a given instant:
 * - `fresh`: hand out the access token as it is;
 * - `renew`: refresh it (or, when it cannot be refreshed, authorize again);
 * - `ended`: the grant is past `refresh_until`: only a new authorize helps.
 *
 * @internal
 */
export type Freshness = "fresh" | "renew" | "ended"

/**
 * The instant (epoch millis) before which `freshness` says "fresh" (`TokenStoreFormat.freshUntilMillis`,
 * the one rule the CLI's lean path follows too): computed once per grant so the managed token's hot
 * path compares two numbers instead of doing date arithmetic on every call.
 *
 * @internal
 */
export const freshUntilMillis = (grant: Grant, configured: Duration.DurationInput | undefined): number =>
  Format.freshUntilMillis(
    {
      issuedAt: DateTime.toEpochMillis(grant.issuedAt),
      expiresAt: DateTime.toEpochMillis(grant.expiresAt),
      refreshUntil: Option.getOrUndefined(Option.map(grant.refreshUntil, DateTime.toEpochMillis)),
      refreshable: Option.isSome(grant.refreshToken)
    },
    configured === undefined ? undefined : Duration.toMillis(Duration.decode(configured))
  )

/**
 * Classifies a grant at `now`. A grant that cannot be refreshed (no refresh token) stays fresh until
 * its access token expires: there is nothing to gain by asking earlier.
 *
 * @internal
 */
export const freshness = (
  grant: Grant,
  now: DateTime.Utc,
  configured: Duration.DurationInput | undefined
): Freshness => {
  if (Option.exists(grant.refreshUntil, (end) => DateTime.greaterThanOrEqualTo(now, end))) return "ended"
  return DateTime.toEpochMillis(now) < freshUntilMillis(grant, configured) ? "fresh" : "renew"
}
