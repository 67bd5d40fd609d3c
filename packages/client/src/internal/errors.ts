/** How an Effect failure becomes the client's one error class, without a secret. */
import { isVedAuthError } from "@vedauth/core/VedAuthError"
import { Cause, ConfigError, Option } from "effect"
import { VedAuthClientError } from "../VedAuthClientError.js"

const fromFailure = (error: unknown): VedAuthClientError => {
  if (isVedAuthError(error)) {
    // The core's errors carry no secret by construction (tokens and passwords are Redacted and
    // scrubbed from what the server says); their fields are copied, never the error itself.
    const details = error as { readonly status?: number; readonly description?: string; readonly reason?: string }
    return new VedAuthClientError(error._tag, error.message, {
      ...(details.status === undefined ? {} : { status: details.status }),
      ...(details.description === undefined ? {} : { description: details.description }),
      ...(details.reason === undefined ? {} : { reason: details.reason })
    })
  }
  if (ConfigError.isConfigError(error)) return new VedAuthClientError("ConfigError", `ConfigError: ${String(error)}`)
  if (error instanceof VedAuthClientError) return error
  // An HttpClientError of the program's own request (client.fetch): its message names the URL only.
  const tag = typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : "Defect"
  return new VedAuthClientError(
    tag === "RequestError" || tag === "ResponseError" ? "TransportError" : "Defect",
    messageOf(error)
  )
}

const messageOf = (error: unknown): string => error instanceof Error ? error.message : String(error)

/**
 * The error a failed call rejects with: the first failure's tag and details; `Aborted` when the call
 * was interrupted (its signal, or `close`); `Defect` for a bug, with the defect's message alone.
 *
 * @internal
 */
export const fromCause = (cause: Cause.Cause<unknown>, closed: boolean): VedAuthClientError => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) return fromFailure(failure.value)
  if (Cause.isInterruptedOnly(cause)) {
    return closed
      ? new VedAuthClientError("Closed", "Closed: the client was closed while the call ran")
      : new VedAuthClientError("Aborted", "Aborted: the call was aborted by its signal")
  }
  return new VedAuthClientError("Defect", `Defect: ${messageOf(Cause.squash(cause))}`)
}
