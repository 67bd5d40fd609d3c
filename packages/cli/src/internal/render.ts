import type { Grant } from "@vedauth/core/Grant"
import type { TokenInfo } from "@vedauth/core/TokenInfo"
import type { Entry } from "@vedauth/core/TokenStore"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import { safeText } from "./terminalText.js"

const iso = (instant: DateTime.Utc): string => DateTime.formatIso(instant)

const units: ReadonlyArray<readonly [string, number]> = [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]

/**
 * A span of whole seconds as its two largest units, the second even when zero, so that spans read
 * alike side by side: `1d 0h`, `23h 59m`, `59m 58s`, `42s`.
 * @internal
 */
export const spanText = (seconds: number): string => {
  const parts: Array<string> = []
  let rest = Math.max(0, Math.floor(seconds))
  for (const [name, size] of units) {
    const count = Math.floor(rest / size)
    rest -= count * size
    if (count > 0 || parts.length > 0) parts.push(`${count}${name}`)
    if (parts.length === 2) break
  }
  return parts.length === 0 ? "0s" : parts.join(" ")
}

const inAbout = (from: DateTime.Utc, to: DateTime.Utc): string => {
  const millis = DateTime.toEpochMillis(to) - DateTime.toEpochMillis(from)
  if (millis <= 0) return "passed"
  return `in ${spanText(Math.round(millis / 1000))}`
}

const grantEnd = (grant: Grant, now: DateTime.Utc): string =>
  Option.match(grant.refreshUntil, {
    onNone: () => "never (or refresh is disabled)",
    onSome: (end) => `${iso(end)} (${inAbout(now, end)})`
  })

/**
 * What `login` and `refresh` print with --json: the grant without its tokens.
 * @internal
 */
export const grantSummary = (grant: Grant) => ({
  identity: grant.identity,
  scope: grant.scope,
  tokenType: grant.tokenType,
  expiresAt: iso(grant.expiresAt),
  refreshUntil: Option.match(grant.refreshUntil, { onNone: () => null, onSome: iso })
})

/** What `login` and `refresh` print. @internal */
export const grantLines = (grant: Grant, now: DateTime.Utc): string =>
  [
    `identity    ${safeText(grant.identity)}`,
    `scope       ${safeText(grant.scope)}`,
    `token type  ${safeText(grant.tokenType)}`,
    `expires     ${iso(grant.expiresAt)} (${inAbout(now, grant.expiresAt)})`,
    `grant ends  ${grantEnd(grant, now)}`,
    `refreshable ${Option.isSome(grant.refreshToken) ? "yes" : "no"}`
  ].join("\n")

/**
 * What `verify` prints with --json.
 * @internal
 */
export const tokenInfoSummary = (info: TokenInfo) => ({
  application: info.application,
  identity: info.identity,
  scope: info.scope,
  validForSeconds: Math.floor(Duration.toSeconds(info.validFor)),
  expiresAt: iso(info.expiresAt),
  grantIssuedOn: Option.match(info.grantIssuedOn, { onNone: () => null, onSome: iso }),
  grantExpires: Option.match(info.grantExpires, { onNone: () => null, onSome: iso })
})

/** What `verify` prints. @internal */
export const tokenInfoLines = (info: TokenInfo): string =>
  [
    `valid       yes, for ${spanText(Duration.toSeconds(info.validFor))}`,
    `application ${safeText(info.application)}`,
    `identity    ${safeText(info.identity)}`,
    `scope       ${safeText(info.scope)}`,
    `expires     ${iso(info.expiresAt)}`,
    `grant ends  ${Option.match(info.grantExpires, { onNone: () => "never", onSome: iso })}`
  ].join("\n")

/** One stored grant as `status` shows it: never a token. @internal */
export interface StatusEntry {
  readonly entry: Entry
  readonly profiles: ReadonlyArray<string>
  readonly current: boolean
}

/** `status --json`'s form of a grant. @internal */
export const statusSummary = ({ current, entry, profiles }: StatusEntry) => ({
  server: entry.key.server,
  clientId: entry.key.clientId,
  scope: entry.key.scope,
  user: entry.key.user,
  identity: entry.grant.identity,
  expiresAt: iso(entry.grant.expiresAt),
  refreshUntil: Option.match(entry.grant.refreshUntil, { onNone: () => null, onSome: iso }),
  refreshable: Option.isSome(entry.grant.refreshToken),
  profiles,
  current
})

/** `status`'s form of a grant. @internal */
export const statusLines = ({ current, entry, profiles }: StatusEntry, now: DateTime.Utc): string =>
  [
    `${current ? "*" : " "} server      ${safeText(entry.key.server)}`,
    `  client id   ${safeText(entry.key.clientId)}`,
    `  scope       ${safeText(entry.key.scope)}`,
    `  user        ${safeText(entry.key.user)}`,
    `  identity    ${safeText(entry.grant.identity)}`,
    `  expires     ${iso(entry.grant.expiresAt)} (${inAbout(now, entry.grant.expiresAt)})`,
    `  grant ends  ${grantEnd(entry.grant, now)}`,
    `  profile     ${profiles.length === 0 ? "none" : profiles.map(safeText).join(", ")}${current ? " (current)" : ""}`
  ].join("\n")
