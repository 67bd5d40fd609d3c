/**
 * The device flow (RFC 8628) as VEDauth runs it: authorize/device hands out a device code and a
 * user code; authorize/token, polled with the device code, answers `authorization_pending` until a
 * person approves (`approve`, or `autoApproveAfterPolls`), `slow_down` to a client that polls
 * faster than the interval (which then grows by 5 seconds), `access_denied` once denied and
 * `expired_token` after the code's lifetime; an approved code is exchanged for a grant once.
 */
import { Clock, Effect } from "effect"
import type { IntegrationConfig } from "./config.js"
import type { HandlerContext } from "./context.js"
import type { SimRequest, SimResponse } from "./http.js"
import { json, oauthError } from "./http.js"
import { newToken } from "./tokens.js"
import { checkClient, checkScope, issue, lookupUser } from "./vedauth.js"

/** @internal */
export const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

/** @internal */
export interface DeviceRecord {
  readonly deviceCode: string
  readonly userCode: string
  readonly integration: IntegrationConfig
  readonly scope: string
  readonly expires: number
  intervalMillis: number
  lastPoll: number | undefined
  polls: number
  status: "pending" | "approved" | "denied"
  /** Who approved (a login the simulator knows). */
  login: string | undefined
}

/** The form body of a device request; undefined when it is not form-encoded text. @internal */
export const parseForm = (body: Uint8Array): URLSearchParams | undefined => {
  try {
    return new URLSearchParams(new TextDecoder("utf-8", { fatal: true }).decode(body))
  } catch {
    return undefined
  }
}

// Eight letters from an alphabet without look-alikes, shown as XXXX-XXXX (RFC 8628 section 6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"
const newUserCode = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(8))
  const letters = Array.from(bytes, (byte) => userCodeAlphabet[byte % userCodeAlphabet.length]).join("")
  return `${letters.slice(0, 4)}-${letters.slice(4)}`
}

const formValue = (form: URLSearchParams, name: string): string | undefined => form.get(name) ?? undefined

/** POST vedauth/authorize/device. @internal */
export const authorizeDevice = (ctx: HandlerContext, request: SimRequest) =>
  Effect.gen(function*() {
    const form = parseForm(request.body)
    if (form === undefined) return oauthError("invalid_request", "The request body is not a form")
    const integration = checkClient(ctx, formValue(form, "client_id"), "device")
    if ("status" in integration) return integration
    const scope = checkScope(integration, formValue(form, "scope"))
    if (typeof scope !== "string") return scope
    const now = yield* Clock.currentTimeMillis
    const { expiresInSeconds, intervalSeconds } = ctx.config.device
    const record: DeviceRecord = {
      deviceCode: newToken(),
      userCode: newUserCode(),
      integration,
      scope,
      expires: now + expiresInSeconds * 1000,
      intervalMillis: intervalSeconds * 1000,
      lastPoll: undefined,
      polls: 0,
      status: "pending",
      login: undefined
    }
    yield* Effect.sync(() => ctx.state.addDevice(record, now))
    const verificationUri = ctx.config.device.verificationUri ??
      `https://${request.headers.host ?? "tpp.invalid"}/vedauth/device`
    return json(200, "OK", {
      device_code: record.deviceCode,
      user_code: record.userCode,
      verification_uri: verificationUri,
      verification_uri_complete: `${verificationUri}?user_code=${record.userCode}`,
      interval: intervalSeconds,
      expires_in: expiresInSeconds,
      expires: Math.floor(record.expires / 1000)
    })
  })

const pollError = (error: string, description: string): SimResponse => oauthError(error, description)

const pollSlackMillis = 50

/** POST vedauth/authorize/token with the device grant type (form-encoded). @internal */
export const pollDevice = (ctx: HandlerContext, form: URLSearchParams) =>
  Effect.gen(function*() {
    const clientId = formValue(form, "client_id")
    const deviceCode = formValue(form, "device_code")
    if (clientId === undefined || clientId === "") return oauthError("invalid_request", "client_id is required")
    if (deviceCode === undefined || deviceCode === "") return oauthError("invalid_request", "device_code is required")
    const now = yield* Clock.currentTimeMillis
    const record = ctx.state.devices.get(deviceCode)
    if (record === undefined || record.integration.clientId.toLowerCase() !== clientId.toLowerCase()) {
      return oauthError("invalid_grant", "device_code is expired or invalid")
    }
    if (now >= record.expires) {
      ctx.state.devices.delete(deviceCode)
      return pollError("expired_token", "The device code has expired")
    }
    if (record.status === "denied") {
      ctx.state.devices.delete(deviceCode)
      return pollError("access_denied", "The user denied the authorization request")
    }
    // Timers and clocks are not exact to the millisecond: a poll within pollSlackMillis of the interval is on time.
    const tooSoon = record.lastPoll !== undefined && now - record.lastPoll < record.intervalMillis - pollSlackMillis
    record.lastPoll = now
    record.polls++
    if (tooSoon || record.polls <= ctx.config.device.slowDownPolls) {
      record.intervalMillis += 5000
      return pollError("slow_down", "Polling too frequently; slow down")
    }
    const autoApprove = ctx.config.device.autoApproveAfterPolls
    if (record.status === "pending" && autoApprove !== undefined && record.polls > autoApprove) {
      record.status = "approved"
    }
    if (record.status === "pending") {
      return pollError("authorization_pending", "The authorization request is still pending")
    }
    ctx.state.devices.delete(deviceCode)
    const user = lookupUser(ctx, record.login ?? ctx.config.device.approver)
    if (user === undefined) {
      return oauthError("invalid_grant", "The approving user is unknown")
    }
    return yield* issue(ctx, record.integration, user, record.scope, undefined)
  })

/**
 * A person's answer to a user code: approve as `login` (default: the configured approver), or
 * deny. False when no pending code matches.
 * @internal
 */
export const answerDevice = (
  ctx: HandlerContext,
  userCode: string,
  answer: { readonly approve: boolean; readonly login?: string }
) =>
  Effect.sync(() => {
    for (const record of ctx.state.devices.values()) {
      if (record.userCode === userCode.toUpperCase() && record.status === "pending") {
        record.status = answer.approve ? "approved" : "denied"
        record.login = answer.login
        return true
      }
    }
    return false
  })
