/**
 * The Kerberos acceptor (RFC 4120 section 3.2.3, RFC 4121, RFC 4178), for test servers and
 * simulators: an AP-REQ, raw or inside a NegTokenInit, decrypted with the service key and checked
 * (ticket times, authenticator against ticket, clock skew, replay, channel bindings), then answered
 * with an AP-REP carrying a fresh acceptor subkey and, under SPNEGO, a mechListMIC.
 *
 * @since 0.2.0
 */
import * as acceptor from "../internal/kerberos/acceptor.js"
import type * as Keytab from "../Keytab.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface Options {
  readonly keys: ReadonlyArray<Keytab.Entry>
  /** Allowed clock difference with initiators. Default 5 minutes (MIT's and Windows' default). */
  readonly skewMillis?: number
  /** Refuse initiators that send no channel bindings (IIS Extended Protection "Require"). */
  readonly requireChannelBindings?: boolean
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Accepted {
  /** The authenticated client, `alice@EXAMPLE.COM`. */
  readonly client: string
  readonly server: string
  /** The answer for `WWW-Authenticate: Negotiate <base64>` (SPNEGO-wrapped when the initiator used SPNEGO). */
  readonly token: Uint8Array
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Acceptor {
  /**
   * Checks an initiator's token at `now`; `channelBindings` are those of the connection it came on
   * (over TLS). Throws `KerberosFailure` when it does not hold.
   */
  readonly accept: (
    token: Uint8Array,
    options: { readonly now: number; readonly channelBindings?: Uint8Array | undefined }
  ) => Accepted
}

/**
 * An acceptor with its own replay cache (authenticators seen within the clock skew are refused).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options): Acceptor => {
  const skewMillis = options.skewMillis ?? 5 * 60_000
  const seen = new Map<string, number>()
  return {
    accept: (token, { channelBindings, now }) => {
      const remember = (id: string, expiresAt: number) => {
        for (const [key, until] of seen) if (until < now) seen.delete(key)
        if (seen.has(id)) return false
        seen.set(id, expiresAt)
        return true
      }
      const accepted = acceptor.accept(token, {
        keys: options.keys,
        now,
        skewMillis,
        channelBindings,
        requireChannelBindings: options.requireChannelBindings ?? false,
        remember
      })
      return { client: accepted.client, server: accepted.server, token: accepted.token }
    }
  }
}
