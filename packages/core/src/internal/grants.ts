/**
 * The grants other than integrated, as pure request builders and `process...` functions (the
 * sending is `flows.ts`'s): authorize/oauth, authorize/certificate, authorize/jwt, and the device
 * flow (authorize/device, then RFC 8628 polling of authorize/token).
 */
import { HttpClientRequest } from "@effect/platform"
import { boundText } from "@vedauth/winauth/PeerText"
import { Effect, Redacted, Schema } from "effect"
import * as VedAuthError from "../VedAuthError.js"
import * as errors from "./errors.js"
import * as http from "./http.js"

/** @internal */
export interface GrantBody {
  readonly client_id: string
  readonly scope: string
  readonly state?: string
}

const jsonPost = (url: string, body: Record<string, string>) =>
  HttpClientRequest.post(url).pipe(HttpClientRequest.acceptJson, HttpClientRequest.bodyUnsafeJson(body))

/** POST authorize/oauth: the password grant. @internal */
export const passwordRequest = (url: string, body: GrantBody, username: string, password: Redacted.Redacted<string>) =>
  jsonPost(url, { ...body, username, password: Redacted.value(password) })

/** POST authorize/certificate: the identity is the TLS client certificate. @internal */
export const certificateRequest = (url: string, body: GrantBody) => jsonPost(url, { ...body })

/** POST authorize/jwt (TPP 22.4+). @internal */
export const jwtRequest = (url: string, body: GrantBody, jwt: Redacted.Redacted<string>) =>
  jsonPost(url, { ...body, jwt: Redacted.value(jwt) })

// -----------------------------------------------------------------------------------------------
// The device flow
// -----------------------------------------------------------------------------------------------

/** The grant type of the device flow's polls (RFC 8628 section 3.4). @internal */
export const deviceGrantType = "urn:ietf:params:oauth:grant-type:device_code"

/** POST authorize/device, form-encoded as the reference says. @internal */
export const deviceRequest = (url: string, body: GrantBody) =>
  HttpClientRequest.post(url).pipe(
    HttpClientRequest.acceptJson,
    HttpClientRequest.bodyUrlParams({ client_id: body.client_id, scope: body.scope })
  )

/** One poll of authorize/token for the device code. @internal */
export const devicePollRequest = (url: string, clientId: string, deviceCode: Redacted.Redacted<string>) =>
  HttpClientRequest.post(url).pipe(
    HttpClientRequest.acceptJson,
    HttpClientRequest.bodyUrlParams({
      grant_type: deviceGrantType,
      device_code: Redacted.value(deviceCode),
      client_id: clientId
    })
  )

/** RFC 8628 section 3.2: the seconds between polls when the server does not say. @internal */
export const defaultPollInterval = 5

const DeviceWire = Schema.Struct({
  device_code: Schema.NonEmptyString,
  user_code: Schema.NonEmptyString,
  verification_uri: Schema.NonEmptyString,
  verification_uri_complete: Schema.optional(Schema.NullOr(Schema.String)),
  interval: Schema.optional(Schema.NullOr(Schema.Number.pipe(Schema.finite(), Schema.lessThanOrEqualTo(3600)))),
  expires_in: Schema.Number.pipe(Schema.int(), Schema.between(1, 86_400))
})

/**
 * The seconds between polls: the server's `interval`, or RFC 8628's default of 5 when it gives none
 * or less than a second (0, a negative number, a fraction): a server that asks for no wait would
 * otherwise be polled flat out, hundreds of times a second, until the code expires.
 * @internal
 */
export const pollInterval = (interval: number | null | undefined): number =>
  interval === undefined || interval === null || !(interval >= 1) ? defaultPollInterval : interval

/**
 * A warning when the device flow's verification link leads elsewhere than the server vedauth talks
 * to: another host (compared exactly, as `URL` parses it, so `https://tpp.example.com.evil.example/`
 * and `http://tpp.example.com@evil.example/` are caught), or plain http when the server is https.
 * The person types the code (and perhaps a password) into that page. `undefined` when it is fine.
 * @internal
 */
export const verificationLinkWarning = (serverUrl: string, link: string): string | undefined => {
  let server: URL
  try {
    server = new URL(serverUrl)
  } catch {
    return undefined
  }
  const shown = boundText(link)
  let target: URL
  try {
    target = new URL(link)
  } catch {
    return `vedauth: the server's verification link ${shown} is not a URL; open it only if you know where it leads`
  }
  const problems: Array<string> = []
  if (target.hostname !== server.hostname) {
    problems.push(
      target.hostname === ""
        ? "it names no host"
        : `its host ${boundText(target.hostname)} is not the server's (${server.hostname})`
    )
    if (target.username !== "" || target.password !== "") {
      problems.push("what stands before its @ is a user name, not the host")
    }
  }
  if (server.protocol === "https:" && target.protocol !== "https:") {
    problems.push(`it is ${boundText(target.protocol.replace(/:$/, ""))}, not https`)
  }
  return problems.length === 0
    ? undefined
    : `vedauth: the server's verification link ${shown} may not be the server's own page: ${
      problems.join("; ")
    }. Enter the code (or a password) there only if you trust that page`
}

/**
 * The warnings for a device authorization's links (`verification_uri`, then the complete one): one
 * per place they lead to, so that the complete link on the same host as the first says nothing more.
 * @internal
 */
export const verificationLinkWarnings = (serverUrl: string, links: ReadonlyArray<string>): Array<string> => {
  const warned = new Set<string>()
  const warnings: Array<string> = []
  for (const link of links) {
    const warning = verificationLinkWarning(serverUrl, link)
    if (warning === undefined) continue
    let place = link
    try {
      const target = new URL(link)
      place = `${target.protocol}//${target.username}@${target.hostname}`
    } catch {
      // Not a URL: the text itself is the place.
    }
    if (warned.has(place)) continue
    warned.add(place)
    warnings.push(warning)
  }
  return warnings
}

/**
 * A device authorization as the client keeps it: the device code stays `Redacted`.
 *
 * @internal
 */
export interface DeviceAuthorization {
  readonly deviceCode: Redacted.Redacted<string>
  readonly userCode: string
  readonly verificationUri: string
  readonly verificationUriComplete: string | undefined
  readonly intervalSeconds: number
  readonly expiresInSeconds: number
}

/** The answer to authorize/device. @internal */
export const processDevice = (answer: http.Answer): Effect.Effect<DeviceAuthorization, VedAuthError.VedAuthError> =>
  answer.status !== 200
    ? Effect.fail(errors.fromFailure({ endpoint: "authorize", ...answer, secrets: [] }))
    : http.parseJson("authorize", answer, []).pipe(
      Effect.flatMap(Schema.decodeUnknown(DeviceWire)),
      Effect.mapError(() =>
        errors.undecodable("authorize", answer.status, answer.reason, "a device authorization", [])
      ),
      Effect.map((wire) => ({
        deviceCode: Redacted.make(wire.device_code),
        userCode: wire.user_code,
        verificationUri: wire.verification_uri,
        verificationUriComplete: wire.verification_uri_complete ?? undefined,
        intervalSeconds: pollInterval(wire.interval),
        expiresInSeconds: wire.expires_in
      }))
    )

/**
 * What one poll says: keep waiting (`slow_down` adds 5 seconds to the interval, RFC 8628 section
 * 3.5), or a refusal that ends the flow. A 200 is the caller's (it decodes the grant).
 *
 * @internal
 */
export type PollOutcome =
  | { readonly _tag: "Pending" }
  | { readonly _tag: "SlowDown" }
  | { readonly _tag: "Refused"; readonly error: VedAuthError.VedAuthError }

const errorCode = (body: string): string | undefined => {
  try {
    const json: unknown = JSON.parse(body)
    const code = typeof json === "object" && json !== null ? (json as Record<string, unknown>).error : undefined
    return typeof code === "string" ? code : undefined
  } catch {
    return undefined
  }
}

/** @internal */
export const processPollFailure = (
  answer: http.Answer,
  secrets: ReadonlyArray<Redacted.Redacted<string>>
): PollOutcome => {
  const code = answer.status === 400 ? errorCode(answer.body) : undefined
  if (code === "authorization_pending") return { _tag: "Pending" }
  if (code === "slow_down") return { _tag: "SlowDown" }
  const mapped = errors.fromFailure({ endpoint: "authorize", ...answer, secrets })
  // access_denied and expired_token are not among the codes `fromFailure` maps: keep the server's words here.
  const said = errors.parseOAuthBody(answer.body)?.error_description
  const description = "description" in mapped && mapped.description !== undefined
    ? mapped.description
    : said === undefined || said === ""
    ? undefined
    : errors.scrub(said, secrets)
  const details = {
    status: answer.status,
    ...(answer.reason === "" ? {} : { reason: errors.scrub(answer.reason, secrets) })
  }
  if (code === "expired_token") {
    return {
      _tag: "Refused",
      error: new VedAuthError.InvalidGrant({
        ...details,
        description: description ?? "the device code expired before it was approved: start again"
      })
    }
  }
  if (code === "access_denied") {
    return {
      _tag: "Refused",
      error: new VedAuthError.AuthenticationFailed({
        ...details,
        description: description ?? "the device authorization was denied"
      })
    }
  }
  return { _tag: "Refused", error: mapped }
}

/** The device code ran out on the client's clock before any answer said so. @internal */
export const deviceCodeExpired = () =>
  new VedAuthError.InvalidGrant({ description: "the device code expired before it was approved: start again" })

/**
 * Logs a warning for each place the device authorization's links lead that is not the server (or
 * not https): the server's word, not ours, said before the person is prompted.
 *
 * @internal
 */
export const warnAboutLinks = (serverUrl: string, authorization: DeviceAuthorization) => {
  const links = [
    authorization.verificationUri,
    ...(authorization.verificationUriComplete === undefined ? [] : [authorization.verificationUriComplete])
  ]
  return Effect.forEach(verificationLinkWarnings(serverUrl, links), (warning) => Effect.logWarning(warning), {
    discard: true
  })
}

/** What the person is shown of a device authorization (never the device code). @internal */
export const promptOf = (authorization: DeviceAuthorization) => ({
  userCode: authorization.userCode,
  verificationUri: authorization.verificationUri,
  verificationUriComplete: authorization.verificationUriComplete,
  expiresIn: authorization.expiresInSeconds
})
