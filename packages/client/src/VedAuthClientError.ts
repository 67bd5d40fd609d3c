/**
 * The one error every call of `VedAuthClient` rejects with.
 *
 * @since 0.1.0
 */

/**
 * What the server said, when it said anything.
 *
 * @since 0.1.0
 * @category models
 */
export interface VedAuthClientErrorDetails {
  /** The HTTP status code. */
  readonly status?: number
  /** The server's `error_description` (or the text of a 401). */
  readonly description?: string
  /** The HTTP reason phrase. */
  readonly reason?: string
}

/**
 * A failed call: `_tag` is the documented tag of the library's error (`AuthenticationFailed`,
 * `InvalidGrant`, `TransportError`, ...) or one of the client's own (`ConfigError`,
 * `InvalidArgument`, `Aborted`, `Closed`, `Defect`). Never holds a token or a password.
 *
 * @since 0.1.0
 * @category errors
 */
export class VedAuthClientError extends Error {
  override readonly name = "VedAuthClientError"
  readonly _tag: string
  readonly status: number | undefined
  readonly description: string | undefined
  readonly reason: string | undefined
  constructor(tag: string, message: string, details: VedAuthClientErrorDetails = {}) {
    super(message)
    this._tag = tag
    this.status = details.status
    this.description = details.description
    this.reason = details.reason
  }
}
