import type { Grant, TokenInfo } from "@vedauth/core"
import { DateTime, Duration, Option } from "effect"

const iso = (instant: DateTime.Utc): string => DateTime.formatIso(instant)

const inAbout = (from: DateTime.Utc, to: DateTime.Utc): string => {
  const millis = DateTime.toEpochMillis(to) - DateTime.toEpochMillis(from)
  if (millis <= 0) return "passed"
  return `in ${Duration.format(Duration.seconds(Math.round(millis / 1000)))}`
}

/**
 * What `login` and `refresh` print: the grant without its tokens.
 * @internal
 */
export const grantSummary = (grant: Grant.Grant) => ({
  identity: grant.identity,
  scope: grant.scope,
  tokenType: grant.tokenType,
  expiresAt: iso(grant.expiresAt),
  refreshUntil: Option.match(grant.refreshUntil, { onNone: () => null, onSome: iso })
})

/** @internal */
export const grantLines = (grant: Grant.Grant, now: DateTime.Utc): string =>
  [
    `identity    ${grant.identity}`,
    `scope       ${grant.scope}`,
    `token type  ${grant.tokenType}`,
    `expires     ${iso(grant.expiresAt)} (${inAbout(now, grant.expiresAt)})`,
    `grant ends  ${
      Option.match(grant.refreshUntil, {
        onNone: () => "never (or refresh is disabled)",
        onSome: (end) => `${iso(end)} (${inAbout(now, end)})`
      })
    }`,
    `refreshable ${Option.isSome(grant.refreshToken) ? "yes" : "no"}`
  ].join("\n")

/**
 * What `verify` prints.
 * @internal
 */
export const tokenInfoSummary = (info: TokenInfo.TokenInfo) => ({
  application: info.application,
  identity: info.identity,
  scope: info.scope,
  validForSeconds: Math.floor(Duration.toSeconds(info.validFor)),
  expiresAt: iso(info.expiresAt),
  grantIssuedOn: Option.match(info.grantIssuedOn, { onNone: () => null, onSome: iso }),
  grantExpires: Option.match(info.grantExpires, { onNone: () => null, onSome: iso })
})

/** @internal */
export const tokenInfoLines = (info: TokenInfo.TokenInfo): string =>
  [
    `valid       yes, for ${Duration.format(Duration.seconds(Math.floor(Duration.toSeconds(info.validFor))))}`,
    `application ${info.application}`,
    `identity    ${info.identity}`,
    `scope       ${info.scope}`,
    `expires     ${iso(info.expiresAt)}`,
    `grant ends  ${Option.match(info.grantExpires, { onNone: () => "never", onSome: iso })}`
  ].join("\n")
