/**
 * The secret an authorize of the layer's grant may need: the password, given as a value or as an
 * effect (a prompt, a vault look-up) that is run at most once, when an authorize needs it and never
 * under the store's lock. A keytab or credential cache authorizes without one, and the certificate,
 * JWT and device grants send none.
 *
 * @internal
 */
import { Effect, Option, Redacted, Ref } from "effect"
import * as NtlmTransport from "../../NtlmTransport.js"
import type { Options } from "../../VedAuth.js"
import * as VedAuthError from "../../VedAuthError.js"
import { passwordFree } from "../kerberosTicket.js"

/** @internal */
export interface Secret {
  /**
   * True when an authorize can run now without asking anyone: the password was given as a value or
   * already obtained, or the grant needs none (keytab, credential cache, certificate, JWT, device).
   */
  readonly atHand: Effect.Effect<boolean>
  /** False when this layer has no way at all to authorize with a password it needs (none configured). */
  readonly configured: boolean
  /** Asks for the password if it is to be asked for (at most once per layer, once it succeeds). */
  readonly obtain: Effect.Effect<void, VedAuthError.AuthenticationFailed>
  /** The Windows credentials of an authorize; the password is resolved (and so asked for) here. */
  readonly credentials: Effect.Effect<NtlmTransport.WindowsAccount, VedAuthError.AuthenticationFailed>
}

const noCredentials = new VedAuthError.AuthenticationFailed({
  description: "no Windows credentials configured (username and password, e.g. VEDAUTH_USERNAME and VEDAUTH_PASSWORD)"
})

/** @internal */
export const make = (options: Options, usesPassword: boolean): Effect.Effect<Secret> =>
  Effect.gen(function*() {
    const given = usesPassword ? options.password : undefined
    const noPasswordNeeded = !usesPassword || passwordFree(options)
    const asked = yield* Ref.make(Option.none<Redacted.Redacted<string>>())
    const askOnce = yield* Effect.makeSemaphore(1)

    /** The password (`None` when none is configured), asked for at most once once it succeeds. */
    const password: Effect.Effect<Option.Option<Redacted.Redacted<string>>, VedAuthError.AuthenticationFailed> =
      given === undefined || Redacted.isRedacted(given)
        ? Effect.succeed(Option.fromNullable(given))
        : askOnce.withPermits(1)(Effect.flatMap(Ref.get(asked), (known) =>
          Option.isSome(known)
            ? Effect.succeed(known)
            : Effect.map(Effect.tap(given, (p) => Ref.set(asked, Option.some(p))), Option.some)))

    const credentials = Effect.gen(function*() {
      // A keytab or credential cache authorizes with Kerberos alone: no password, and the cache may name the user.
      if (given === undefined && passwordFree(options)) {
        return { ...NtlmTransport.parseUser(options.username ?? ""), password: Redacted.make("") }
      }
      if (options.username === undefined || options.username === "" || given === undefined) {
        return yield* noCredentials
      }
      const resolved = yield* password
      // An empty password (an empty VEDAUTH_PASSWORD, a prompt answered with Enter) is no password: never sent.
      if (Option.isNone(resolved) || Redacted.value(resolved.value) === "") return yield* noCredentials
      return { ...NtlmTransport.parseUser(options.username), password: resolved.value }
    })

    return {
      atHand: noPasswordNeeded || given === undefined || Redacted.isRedacted(given)
        ? Effect.succeed(noPasswordNeeded || given !== undefined)
        : Effect.map(Ref.get(asked), Option.isSome),
      configured: noPasswordNeeded || given !== undefined,
      obtain: Effect.asVoid(password),
      credentials
    }
  })
