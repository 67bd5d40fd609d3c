/**
 * Which mechanism an authorize uses, and the Kerberos service ticket when it is Kerberos: the
 * `mechanism` option decided once per authorize, before the HTTP handshake (which only runs it).
 */
import { Duration, Effect, Layer, Option, Redacted } from "effect"
import * as Kerberos from "../Kerberos.js"
import { serverRefusedTicket } from "../NtlmHandshake.js"
import { KcmTransport } from "../KcmTransport.js"
import { KdcTransport, layerMemory } from "../KdcTransport.js"
import type * as NtlmTransport from "../NtlmTransport.js"
import type { SystemKerberos } from "../SystemKerberos.js"
import { TokenStoreFiles } from "../TokenStoreFiles.js"
import type { KerberosOptions, Options } from "../VedAuth.js"
import type { AuthenticationFailed } from "../VedAuthError.js"
import { KerberosError, TransportError } from "../VedAuthError.js"
import { defaultRequestTimeout } from "./flows.js"

// A layer built without a KdcTransport still authorizes with a cached service ticket; a KDC trip says why it cannot.
const noKdcTransport = layerMemory(() =>
  Effect.fail(new TransportError({ detail: "no KdcTransport in this layer (NodeVedAuth and DenoVedAuth provide one)" }))
)

// Failures that mean "Kerberos is not possible here", after which `negotiate` goes on with NTLM.
const notPossible: ReadonlySet<string> = new Set(["NO_PRINCIPAL", "BAD_PRINCIPAL", "NO_CREDENTIALS", "SPN_FOR_IP_ADDRESS", "NO_KDC", "CROSS_REALM", "CCACHE_TYPE_UNSUPPORTED"])

/**
 * True when an authorize with these options can run on Kerberos alone, without a password.
 *
 * @internal
 */
export const passwordFree = (options: Options): boolean =>
  options.mechanism !== "ntlm" &&
  (options.kerberos?.keytab !== undefined || options.kerberos?.cache !== undefined || options.kerberos?.system === true)

/** @internal */
export type TicketFor = (credentials: NtlmTransport.Credentials) => Effect.Effect<NtlmTransport.KerberosAttempt | undefined, AuthenticationFailed | KerberosError | TransportError>

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
  if (mechanism === "ntlm" || (mechanism === "negotiate" && settings === undefined)) return () => Effect.succeed(undefined)
  const services = Layer.mergeAll(
    Option.match(kdc, { onNone: () => noKdcTransport, onSome: (service) => Layer.succeed(KdcTransport, service) }),
    Option.match(fs, { onNone: () => Layer.empty, onSome: (service) => Layer.succeed(TokenStoreFiles, service) }),
    Option.match(kcm, { onNone: () => Layer.empty, onSome: (service) => Layer.succeed(KcmTransport, service) })
  )
  const fallback = mechanism === "negotiate"
  // The KDC round trips and the password's string-to-key (CPU work, off the event loop in WebCrypto)
  // under the request timeout: a KDC that stalls, or asks for the most PBKDF2 iterations in two
  // offers, cannot make a login take longer. `flows` gives the HTTP handshake what is left of it.
  const timeout = Duration.decode(options.requestTimeout ?? defaultRequestTimeout)
  const withinTimeout = Effect.timeoutFail({
    duration: timeout,
    onTimeout: () => new TransportError({ detail: `no Kerberos ticket within ${Duration.format(timeout)} (KDC round trips and deriving the key from the password)` })
  })
  return (credentials) => {
    const attempt: Effect.Effect<NtlmTransport.KerberosAttempt, AuthenticationFailed | KerberosError | TransportError> = settings?.system === true
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
      (error) => hasPassword && (error._tag === "TransportError" || (error._tag === "KerberosError" && notPossible.has(error.reason))),
      (error) => Effect.as(Effect.logDebug(`vedauth: Kerberos not possible (${error.message}); NTLM instead`), undefined)
    )
  }
}

// The system's context, started here (its token made) so that "no credentials" is known before the
// handshake, and `negotiate` can go on with NTLM as it does when our own initiator has no ticket.
const systemAttempt = (options: Options, settings: KerberosOptions, system: Option.Option<SystemKerberos["Type"]>, ntlmFallback: boolean) =>
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
        onTimeout: () => new TransportError({ detail: `the system's Kerberos made no token within ${Duration.format(timeout)}` })
      })
    )
    return { system: initiator, spn, channelBindings: system.value.channelBindings, ntlmFallback } satisfies NtlmTransport.SystemAttempt
  })

// `DOMAIN\user` names a NetBIOS domain, which is not a Kerberos realm: with a realm given, that realm.
const principalOf = (username: string | undefined, realm: string | undefined): string | undefined => {
  if (username === undefined || username === "") return undefined
  const backslash = username.indexOf("\\")
  if (backslash < 0 || realm === undefined || username.slice(0, backslash).includes(".")) return username
  return `${username.slice(backslash + 1)}@${realm}`
}

const ticket = (options: Options, settings: KerberosOptions, credentials: NtlmTransport.Credentials, fs: Option.Option<TokenStoreFiles["Type"]>) =>
  Effect.gen(function*() {
    const spn = settings.spn ?? (yield* Kerberos.spnForUrl(options.url))
    const keytab = settings.keytab === undefined
      ? undefined
      : Option.isNone(fs)
      ? yield* new KerberosError({ reason: "KEYTAB_UNREADABLE", detail: `${settings.keytab}: no TokenStoreFiles in this layer to read it with (NodeTokenStoreFiles.layer)` })
      : yield* Effect.provideService(Kerberos.readKeytab(settings.keytab), TokenStoreFiles, fs.value)
    const key: Kerberos.Credentials = keytab !== undefined
      ? { _tag: "Keytab", keytab }
      : Redacted.value(credentials.password) !== ""
      ? { _tag: "Password", password: credentials.password }
      : { _tag: "CacheOnly" }
    const principal = principalOf(options.username, settings.realm)
    return yield* Kerberos.getTicket({
      ...(principal === undefined ? {} : { principal }),
      credentials: key,
      spn,
      ...(settings.realm === undefined ? {} : { realm: settings.realm }),
      ...(settings.kdc === undefined ? {} : { kdc: settings.kdc }),
      ...(settings.cache === undefined ? {} : { cache: settings.cache })
    })
  })

/**
 * The Kerberos attempt of one authorize, and under `negotiate` its one fallback: when the server
 * refuses the ticket (not the KDC the credentials: that stays an error, or a wrong password would
 * hide behind NTLM) and a password is known, NTLM runs once on a fresh exchange, `ntlm`, which
 * carries no ticket and so cannot fall back again.
 *
 * @internal
 */
export const withNtlmFallback = <A, E>(
  attempt: NtlmTransport.KerberosAttempt,
  credentials: NtlmTransport.Credentials,
  kerberos: Effect.Effect<A, E | KerberosError>,
  ntlm: Effect.Effect<A, E>
): Effect.Effect<A, E | KerberosError> => {
  if (!attempt.ntlmFallback || Redacted.value(credentials.password) === "") return kerberos
  return Effect.catchIf(
    kerberos,
    (error): error is KerberosError => error instanceof KerberosError && error.reason === serverRefusedTicket,
    (error) => Effect.zipRight(Effect.logWarning(`vedauth: ${error.detail}; NTLM instead`), ntlm)
  )
}
