/**
 * The VEDauth flows as typed effects, and the managed token.
 *
 * CONTRACT STUB: the service interface below is agreed; the implementation (internal/vedAuth.ts),
 * the module functions and the layers are being written.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import type { Duration, Effect, Redacted, Scope as EffectScope } from "effect"
import { Context, Data } from "effect"
import type { Grant } from "./Grant.js"
import type { TokenInfo } from "./TokenInfo.js"
import type * as VedAuthError from "./VedAuthError.js"

/**
 * How to reach the server and whom to authorize as.
 *
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** Base URL of the TPP server, e.g. `https://tpp.example.com` (VEDauth is under `/vedauth/`). */
  readonly url: string
  /** The API integration's Application ID. */
  readonly clientId: string
  /** The scope to request, e.g. `certificate:manage,revoke;configuration`. */
  readonly scope: string
  /** `DOMAIN\user` or `user@domain` for Integrated Windows Authentication. */
  readonly username?: string
  readonly password?: Redacted.Redacted<string>
  /**
   * Refresh when less than this is left of the access token (default: 10% of its lifetime, at
   * most 5 minutes and at least 30 seconds), so callers never hold a token about to expire.
   */
  readonly refreshWindow?: Duration.DurationInput
}

/**
 * Overrides for one authorize call.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthorizeRequest {
  readonly clientId?: string
  readonly scope?: string
  /** CSRF state; if the server echoes a different `state`, the grant is rejected. */
  readonly state?: string
}

/**
 * The outcome of a revoke: both are answers, not failures.
 *
 * @since 0.1.0
 * @category models
 */
export type RevokeResult = Data.TaggedEnum<{
  /** 200: the grant (access and refresh token) is dead. */
  Revoked: { readonly reason: string }
  /** 202: the server did not know the token (already revoked or expired). */
  NotFound: { readonly reason: string }
}>

/**
 * @since 0.1.0
 * @category constructors
 */
export const RevokeResult = Data.taggedEnum<RevokeResult>()

/**
 * Errors of the authorize call.
 *
 * @since 0.1.0
 * @category models
 */
export type AuthorizeError =
  | VedAuthError.InvalidClient
  | VedAuthError.InvalidRequest
  | VedAuthError.InvalidScope
  | VedAuthError.InvalidGrant
  | VedAuthError.UnauthorizedClient
  | VedAuthError.GrantIssueFailed
  | VedAuthError.UnhandledIdentityClaim
  | VedAuthError.AuthenticationFailed
  | VedAuthError.NtlmProtocolError
  | VedAuthError.TransportError
  | VedAuthError.UnexpectedResponse

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly options: Options
  /** POST vedauth/authorize/integrated through `NtlmTransport`. Does not touch the store. */
  readonly authorize: (request?: AuthorizeRequest) => Effect.Effect<Grant, AuthorizeError>
  /** POST vedauth/authorize/token. The new pair replaces the old one in the store before it is returned; a spent refresh token is never retried. */
  readonly refresh: (grant: Grant) => Effect.Effect<Grant, VedAuthError.VedAuthError>
  /** GET vedauth/authorize/verify. */
  readonly verify: (token: Redacted.Redacted<string>) => Effect.Effect<TokenInfo, VedAuthError.VedAuthError>
  /** GET vedauth/revoke/token; removes the grant from the store when it is the stored one. */
  readonly revoke: (grant: Grant | Redacted.Redacted<string>) => Effect.Effect<RevokeResult, VedAuthError.VedAuthError>
  /** GET vedauth/authorize/isAuthServer. */
  readonly isAuthServer: Effect.Effect<boolean, VedAuthError.TransportError | VedAuthError.UnexpectedResponse>
  /** The managed grant: stored, refreshed ahead of expiry once however many fibers ask, re-authorized when the grant ends. */
  readonly grant: Effect.Effect<Grant, VedAuthError.VedAuthError>
  /** The managed grant's access token. */
  readonly accessToken: Effect.Effect<Redacted.Redacted<string>, VedAuthError.VedAuthError>
  /** A fresh grant for the life of a scope, revoked when the scope closes. */
  readonly session: Effect.Effect<Grant, VedAuthError.VedAuthError, EffectScope.Scope>
  /**
   * Wraps a client: adds the bearer token, refreshes once and retries once on a 401, turns a 403
   * into `InsufficientScope` with the rejected scope parsed.
   */
  readonly httpClient: <E, R>(client: HttpClient.HttpClient.With<E, R>) => HttpClient.HttpClient.With<E | VedAuthError.VedAuthError, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class VedAuth extends Context.Tag("@vedauth/core/VedAuth")<VedAuth, Service>() {}
