/**
 * The managed grant as the client shows it: no token in it at all.
 *
 * @since 0.1.0
 */
import type { Grant } from "@vedauth/core/Grant"
import { DateTime, Option } from "effect"

/**
 * The scope, identity and expiries of a grant. It holds no token, so neither its JSON nor its
 * string form can show one: ask `client.accessToken()` for the token.
 *
 * @since 0.1.0
 * @category models
 */
export class VedAuthGrant {
  readonly scope: string
  readonly identity: string
  readonly tokenType: string
  readonly issuedAt: Date
  /** When the access token ends. */
  readonly expiresAt: Date
  /** When the server stops exchanging the refresh token; undefined when it did not say (or there is none). */
  readonly refreshUntil: Date | undefined
  constructor(grant: Grant) {
    this.scope = grant.scope
    this.identity = grant.identity
    this.tokenType = grant.tokenType
    this.issuedAt = DateTime.toDate(grant.issuedAt)
    this.expiresAt = DateTime.toDate(grant.expiresAt)
    this.refreshUntil = Option.getOrUndefined(Option.map(grant.refreshUntil, DateTime.toDate))
  }
  toJSON() {
    return {
      scope: this.scope,
      identity: this.identity,
      tokenType: this.tokenType,
      issuedAt: this.issuedAt.toISOString(),
      expiresAt: this.expiresAt.toISOString(),
      refreshUntil: this.refreshUntil?.toISOString()
    }
  }
  toString(): string {
    return `VedAuthGrant(scope '${this.scope}', identity '${this.identity}', expires ${this.expiresAt.toISOString()})`
  }
}
