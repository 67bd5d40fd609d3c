/**
 * The store record that says "a person is approving a device authorization for this key", so that
 * the managed grants sharing the store (other layers, other processes, other machines) wait for
 * that person instead of taking the store's lock for minutes or asking a second person.
 *
 * It is a `Grant` in form (every store keeps grants, and a store written by an older vedauth stays
 * readable) that no one can use: an empty access token that expired when it was written, no
 * refresh token, the reserved token type `vedauth:device-<state>`, the attempt's id as identity and
 * the device code's expiry as `refreshUntil`. Its outcome, when a person denied or the code ran
 * out, is written over it with the same id, so that those who waited for this attempt fail as
 * its starter did rather than ask someone again.
 */
import { DateTime, Option, Redacted } from "effect"
import * as Grant from "../Grant.js"
import type * as TokenStore from "../TokenStore.js"
import * as VedAuthError from "../VedAuthError.js"
import { randomHex } from "./random.js"

const prefix = "vedauth:device-"

/** @internal */
export type State = "pending" | "denied" | "expired"

/** @internal */
export interface Marker {
  readonly state: State
  readonly id: string
  /** Clock millis at which the device code expires: a pending marker older than that is stale. */
  readonly deadline: number
}

/** A new attempt's id: random, so two attempts never share one. @internal */
export const newId = (): string => randomHex(12)

/** The marker as a storable grant. @internal */
export const toGrant = (marker: Marker, scope: string, nowMillis: number): Grant.Grant => {
  const now = DateTime.unsafeMake(nowMillis)
  return new Grant.Grant({
    accessToken: Redacted.make(""),
    refreshToken: Option.none(),
    tokenType: `${prefix}${marker.state}`,
    scope,
    identity: marker.id,
    issuedAt: now,
    expiresAt: now,
    refreshUntil: Option.some(DateTime.unsafeMake(marker.deadline))
  })
}

/** The marker a stored grant is, if it is one. @internal */
export const fromGrant = (grant: Grant.Grant): Marker | undefined => {
  if (!grant.tokenType.startsWith(prefix) || Redacted.value(grant.accessToken) !== "") return undefined
  const state = grant.tokenType.slice(prefix.length)
  if (state !== "pending" && state !== "denied" && state !== "expired") return undefined
  return {
    state,
    id: grant.identity,
    deadline: Option.match(grant.refreshUntil, { onNone: () => 0, onSome: (at) => at.epochMillis })
  }
}

/**
 * How long past its device code's expiry a pending marker is still waited for: its starter stops
 * polling at the expiry and writes the outcome then; one still pending after this was left by a
 * process that is gone.
 *
 * @internal
 */
export const graceMillis = 10_000

/** When those waiting for this attempt give up on its starter. @internal */
export const staleAt = (marker: Marker): number => marker.deadline + graceMillis

/** A pending marker that is not stale: someone is waiting for a person. @internal */
export const livePending = (record: Option.Option<TokenStore.Versioned>, nowMillis: number): Marker | undefined => {
  const marker = Option.isSome(record) ? fromGrant(record.value.grant) : undefined
  return marker?.state === "pending" && staleAt(marker) > nowMillis ? marker : undefined
}

/** The outcome an attempt's starter failed with, as those who waited for it see it. @internal */
export const outcomeError = (
  state: Exclude<State, "pending">
): VedAuthError.AuthenticationFailed | VedAuthError.InvalidGrant =>
  state === "denied"
    ? new VedAuthError.AuthenticationFailed({
      description: "the device authorization was denied (it was started by another process sharing the token store)"
    })
    : new VedAuthError.InvalidGrant({
      description:
        "the device code expired before it was approved (it was started by another process sharing the token store): start again"
    })

/** Which outcome marker an attempt's failure leaves, if any: a denial or an expiry; anything else removes the marker. @internal */
export const outcomeOf = (error: VedAuthError.VedAuthError): Exclude<State, "pending"> | undefined =>
  error._tag === "AuthenticationFailed" ? "denied" : error._tag === "InvalidGrant" ? "expired" : undefined
