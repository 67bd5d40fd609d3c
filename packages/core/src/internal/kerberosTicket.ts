/**
 * Which mechanism an authorize uses, and the Kerberos service ticket when it is Kerberos: the
 * `mechanism` option decided once per authorize, before the HTTP handshake (which only runs it).
 */
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import { KcmTransport } from "../KcmTransport.js"
import { KdcTransport, layerMemory } from "../KdcTransport.js"
import * as Kerberos from "../Kerberos.js"
import type * as NtlmTransport from "../NtlmTransport.js"
import type { SystemKerberos } from "../SystemKerberos.js"
import { TokenStoreFiles } from "../TokenStoreFiles.js"
import type { KerberosOptions, Options } from "../VedAuth.js"
import type { AuthenticationFailed } from "../VedAuthError.js"
import { KerberosError, TransportError } from "../VedAuthError.js"
import { defaultRequestTimeout } from "./flows.js"
import * as NtlmFallback from "./ntlmFallback.js"

// A layer built without a KdcTransport still authorizes with a cached service ticket; a KDC trip says why it cannot.
const noKdcTransport = layerMemory(() =>
  Effect.fail(new TransportError({ detail: "no KdcTransport in this layer (NodeVedAuth and DenoVedAuth provide one)" }))
)

/**
 * True when an authorize with these options can run on Kerberos alone, without a password.
 *
 * @internal
 */
export const passwordFree = (options: Options): boolean =>
  options.mechanism !== "ntlm" &&
  (options.kerberos?.keytab !== undefined || options.kerberos?.cache !== undefined || options.kerberos?.system === true)

/** @internal */
export type TicketFor = (
  credentials: NtlmTransport.WindowsAccount
) => Effect.Effect<NtlmTransport.KerberosAttempt | undefined, AuthenticationFailed | KerberosError | TransportError>

/**
 * The ticket step of authorize, on the services the layer was built with (each optional).
 *
 * @internal
 */
export const make = (
  options: Options,
  kdc: Option.Option<KdcTransport["Type"]>,
  fs: Option.Option<TokenStoreFiles["Type"]>,
  system: Option.Option<SystemKerberos["Type"]> = Option.none(),
  kcm: Option.Option<KcmTransport["Type"]> = Option.none()
): TicketFor => {
  const mechanism = options.mechanism ?? "negotiate"
  const settings = options.kerberos
  if (mechanism === "ntlm" || (mechanism === "negotiate" && settings === undefined)) {
    return () => Effect.succeed(undefined)
  }
  const services = Layer.mergeAll(
    Option.match(kdc, { onNone: () => noKdcTransport, onSome: (service) => Layer.succeed(KdcTransport, service) }),
    Option.match(fs, { onNone: () => Layer.empty, onSome: (service) => Layer.succeed(TokenStoreFiles, service) }),
    Option.match(kcm, { onNone: () => Layer.empty, onSome: (service) => Layer.succeed(KcmTransport, service) })
  )
  const fallback = NtlmFallback.mayFallBack(mechanism)
  // The KDC round trips and the password's string-to-key (CPU work, off the event loop in WebCrypto)
  // under the request timeout: a KDC that stalls, or asks for the most PBKDF2 iterations in two
  // offers, cannot make a login take longer. `flows` gives the HTTP handshake what is left of it.
  const timeout = Duration.decode(options.requestTimeout ?? defaultRequestTimeout)
  const withinTimeout = Effect.timeoutFail({
    duration: timeout,
    onTimeout: () =>
      new TransportError({
        detail: `no Kerberos ticket within ${
          Duration.format(timeout)
        } (KDC round trips and deriving the key from the password)`
      })
  })
  return (credentials) => {
    const attempt: Effect.Effect<NtlmTransport.KerberosAttempt, AuthenticationFailed | KerberosError | TransportError> =
      settings?.system === true
        ? systemAttempt(options, settings, system, fallback)
        : ticket(options, settings ?? {}, credentials, fs).pipe(
          Effect.map((ticket): NtlmTransport.KerberosAttempt => ({ ticket, ntlmFallback: fallback })),
          Effect.provide(services),
          withinTimeout
        )
    if (!fallback) return attempt
    const hasPassword = Redacted.value(credentials.password) !== ""
    return Effect.catchIf(
      attempt,
      (error) => NtlmFallback.beforeHandshake(error, hasPassword),
      (error) =>
        Effect.as(
          // A guessed realm that failed is what an administrator must fix before NTLM is switched
          // off: said at the default level. Other reasons (no principal, an IP address) stay quiet.
          error._tag === "KerberosError" && error.reason === NtlmFallback.realmGuessFailed
            ? Effect.logWarning(`vedauth: Kerberos failed, NTLM instead: ${error.message}`)
            : Effect.logDebug(`vedauth: Kerberos not possible (${error.message}); NTLM instead`),
          undefined
        )
    )
  }
}

// The system's context, started here (its token made) so that "no credentials" is known before the
// handshake, and `negotiate` can go on with NTLM as it does when our own initiator has no ticket.
const systemAttempt = (
  options: Options,
  settings: KerberosOptions,
  system: Option.Option<SystemKerberos["Type"]>,
  ntlmFallback: boolean
) =>
  Effect.gen(function*() {
    const spn = settings.spn ?? (yield* Kerberos.spnForUrl(options.url))
    if (Option.isNone(system)) {
      return yield* new KerberosError({
        reason: "NO_SYSTEM_KERBEROS",
        detail: "kerberos.system is set, but this layer has no SystemKerberos",
        hint: "provide NodeSystemKerberos.layer from @vedauth/platform-node (NodeVedAuth includes it)"
      })
    }
    // The system's library talks to the KDC itself, with its own timeouts (or none): bounded here
    // by the request timeout, as our own KDC trips are by the KdcTransport's.
    const timeout = Duration.decode(options.requestTimeout ?? defaultRequestTimeout)
    const initiator = yield* system.value.initiate({ spn, url: options.url }).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new TransportError({ detail: `the system's Kerberos made no token within ${Duration.format(timeout)}` })
      })
    )
    return {
      system: initiator,
      spn,
      channelBindings: system.value.channelBindings,
      ntlmFallback
    } satisfies NtlmTransport.SystemAttempt
  })

const ticket = (
  options: Options,
  settings: KerberosOptions,
  credentials: NtlmTransport.WindowsAccount,
  fs: Option.Option<TokenStoreFiles["Type"]>
) =>
  Effect.gen(function*() {
    const spn = settings.spn ?? (yield* Kerberos.spnForUrl(options.url))
    const keytab = settings.keytab === undefined
      ? undefined
      : Option.isNone(fs)
      ? yield* new KerberosError({
        reason: "KEYTAB_UNREADABLE",
        detail: `${settings.keytab}: no TokenStoreFiles in this layer to read it with (NodeTokenStoreFiles.layer)`
      })
      : yield* Effect.provideService(Kerberos.readKeytab(settings.keytab), TokenStoreFiles, fs.value)
    const key: Kerberos.KeySource = keytab !== undefined
      ? { _tag: "Keytab", keytab }
      : Redacted.value(credentials.password) !== ""
      ? { _tag: "Password", password: credentials.password }
      : { _tag: "CacheOnly" }
    // Every user form (`CORP\alice`, UPN, `alice`) is resolved to a realm by getTicket.
    const principal = options.username === "" ? undefined : options.username
    return yield* Kerberos.getTicket({
      ...(principal === undefined ? {} : { principal }),
      keySource: key,
      spn,
      ...(settings.realm === undefined ? {} : { realm: settings.realm }),
      ...(settings.kdc === undefined ? {} : { kdc: settings.kdc }),
      ...(settings.cache === undefined ? {} : { cache: settings.cache })
    })
  })
