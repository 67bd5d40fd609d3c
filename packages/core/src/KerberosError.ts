/**
 * A Kerberos exchange that failed for a reason other than rejected credentials (those are
 * `AuthenticationFailed`) or an unreachable KDC (`TransportError`): the protocol's error name (RFC
 * 4120 section 7.5.9, e.g. `KDC_ERR_S_PRINCIPAL_UNKNOWN`, or a local one such as `MALFORMED` or
 * `KRB_AP_ERR_MUT_FAIL`), what happened, and a hint when the user can fix it. Never holds a key,
 * password or ticket.
 *
 * @since 0.2.0
 */
import { Schema } from "effect"

/**
 * @since 0.2.0
 * @category errors
 */
export class KerberosError extends Schema.TaggedError<KerberosError>("@vedauth/core/KerberosError")("KerberosError", {
  /** The protocol's error name, or a local name for failures found on this side. */
  name: Schema.String,
  /** The protocol's error code, when a peer sent one. */
  code: Schema.optional(Schema.Number),
  detail: Schema.String,
  /** What the user can change to fix it. */
  hint: Schema.optional(Schema.String)
}) {
  override get message(): string {
    const hint = this.hint === undefined ? "" : ` (${this.hint})`
    return `${this._tag}: ${this.name}: ${this.detail}${hint}`
  }
}
