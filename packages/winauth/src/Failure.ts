/**
 * The engine's two failures. Every function of the engine that reads a peer's bytes either returns
 * or throws one of these: a malformed message, a KDC's refusal, a check that did not hold. Nothing
 * else is thrown for bad input, so a driver catches these two and knows it has seen all of them.
 * Secrets never appear in them; text a peer chose is cut to `PeerText.maxPeerText` characters.
 *
 * @since 0.2.0
 */

/**
 * A Kerberos or SPNEGO failure: the protocol's error name (`KRB_AP_ERR_SKEW`, `KDC_ERR_PREAUTH_FAILED`)
 * or a local one for what this side found (`MALFORMED`, `KDC_REFERRAL_LOOP`), its number when a peer sent
 * one, what happened, and what the user can change.
 *
 * @since 0.2.0
 * @category errors
 */
export class KerberosFailure extends Error {
  readonly _tag = "KerberosFailure" as const
  /** The protocol's error name, or a local name for failures found on this side. */
  readonly reason: string
  /** The protocol's error code, when a peer sent one. */
  readonly code: number | undefined
  readonly detail: string
  /** What the user can change to fix it. */
  readonly hint: string | undefined
  /**
   * The client principal whose credentials the KDC refused (wrong password, unknown, disabled or
   * expired account): a caller reports this as an authentication failure, not a protocol error.
   */
  readonly refusedClient: string | undefined

  constructor(fields: {
    readonly reason: string
    readonly detail: string
    readonly code?: number | undefined
    readonly hint?: string | undefined
    readonly refusedClient?: string | undefined
  }) {
    // The reason leads, as MIT's and Windows' messages put the error name first.
    super(`${fields.reason}: ${fields.detail}${fields.hint === undefined ? "" : ` (${fields.hint})`}`)
    this.name = "KerberosFailure"
    this.reason = fields.reason
    this.code = fields.code
    this.detail = fields.detail
    this.hint = fields.hint
    this.refusedClient = fields.refusedClient
  }
}

/**
 * An NTLM message that cannot be read or answered.
 *
 * @since 0.2.0
 * @category errors
 */
export class NtlmFailure extends Error {
  readonly _tag = "NtlmFailure" as const
  readonly detail: string

  constructor(detail: string) {
    super(detail)
    this.name = "NtlmFailure"
    this.detail = detail
  }
}

/**
 * True for the engine's own failures (and nothing else a caller might catch).
 *
 * @since 0.2.0
 * @category guards
 */
export const isFailure = (u: unknown): u is KerberosFailure | NtlmFailure =>
  u instanceof KerberosFailure || u instanceof NtlmFailure
