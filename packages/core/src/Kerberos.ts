/**
 * Kerberos 5 for Integrated Windows Authentication, portable (no `node:*`, like the NTLM codec): the
 * AS and TGS exchanges with a KDC, the GSS-API Kerberos mechanism (RFC 4121) with TLS channel
 * bindings and mutual authentication, inside SPNEGO (RFC 4178), and the acceptor half a server needs.
 *
 * An HTTP handshake uses it as:
 * 1. `getTicket({ principal, credentials, spn: spnForUrl(url) })` (the KDC round trips, or none with
 *    a cached ticket),
 * 2. `initiate(ticket, { channelBindings })` → `token` for `Authorization: Negotiate <base64>`,
 * 3. `complete(serverToken)` with the token of the server's `WWW-Authenticate: Negotiate <base64>`:
 *    the AP-REP is verified, and a missing or wrong one is an error (mutual authentication).
 *
 * Encryption types: aes256-cts-hmac-sha1-96, aes128-cts-hmac-sha1-96 (RFC 3962),
 * aes256-cts-hmac-sha384-192, aes128-cts-hmac-sha256-128 (RFC 8009). Credentials: a password, an MIT
 * keytab, an MIT `FILE:` credential cache (read and updated).
 *
 * @since 0.2.0
 */
import { Clock, Duration, Effect, Either, type Layer, Option, Redacted } from "effect"
import * as acceptor from "./internal/kerberos/acceptor.js"
import type * as ccache from "./internal/kerberos/ccache.js"
import { enctypes } from "./internal/kerberos/enctypes.js"
import * as initiator from "./internal/kerberos/initiator.js"
import * as kdcServer from "./internal/kerberos/kdc.js"
import { readCache, readKeytabBytes, writeCache } from "./internal/kerberos/files.js"
import { asExchange, type Credential, tgsExchange } from "./internal/kerberos/kdcClient.js"
import * as keytab from "./internal/kerberos/keytab.js"
import { realmOfHost } from "./internal/kerberos/krb5conf.js"
import { emptyKrb5Conf, loadKrb5Conf, resolveKdcs } from "./internal/kerberos/resolve.js"
import { NameType, type PrincipalName, principalText } from "./internal/kerberos/types.js"
import { KdcTransport, layerMemory } from "./KdcTransport.js"
import { KerberosError } from "./KerberosError.js"
import { TokenStoreFiles } from "./TokenStoreFiles.js"
import type { AuthenticationFailed, TransportError } from "./VedAuthError.js"

/**
 * A principal: name components (`["alice"]`, `["HTTP", "tpp.example.com"]`) and realm.
 *
 * @since 0.2.0
 * @category models
 */
export interface Principal {
  readonly name: ReadonlyArray<string>
  readonly realm: string
}

/**
 * Parses `user@REALM`, `REALM\user`, `HTTP/host@REALM`, or a bare name in `defaultRealm`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const parsePrincipal = (text: string, defaultRealm?: string): Either.Either<Principal, KerberosError> => {
  const bad = (detail: string) => Either.left(new KerberosError({ name: "BAD_PRINCIPAL", detail }))
  const backslash = text.indexOf("\\")
  const [name, realm] = backslash >= 0 ? [text.slice(backslash + 1), text.slice(0, backslash)] : splitAt(text)
  const effectiveRealm = realm ?? defaultRealm
  if (name === "" || name.split("/").some((c) => c === "")) return bad(`"${text}" has an empty name`)
  if (effectiveRealm === undefined || effectiveRealm === "") return bad(`"${text}" names no realm, and no default realm is configured (realm option or krb5.conf default_realm)`)
  // Windows domains are NetBIOS or DNS names; Kerberos realms are the upper-case DNS name.
  return Either.right({ name: name.split("/"), realm: effectiveRealm.toUpperCase() })
}

const splitAt = (text: string): [string, string | undefined] => {
  const at = text.lastIndexOf("@")
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]
}

/**
 * @since 0.2.0
 * @category models
 */
export const formatPrincipal = (p: Principal): string => `${p.name.join("/")}@${p.realm}`

/**
 * The SPN of an HTTP server: `HTTP/<host of the URL>`. An IP address has no SPN (Windows clients
 * fall back to NTLM there), so it is an error that says so.
 *
 * @since 0.2.0
 * @category constructors
 */
export const spnForUrl = (url: string): Either.Either<string, KerberosError> => {
  let host: string
  try {
    host = new URL(url).hostname
  } catch {
    return Either.left(new KerberosError({ name: "BAD_URL", detail: `"${url}" is not a URL` }))
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[")) {
    return Either.left(
      new KerberosError({
        name: "SPN_FOR_IP_ADDRESS",
        detail: `${host} is an IP address, and Kerberos service tickets are issued for names (HTTP/<fqdn>)`,
        hint: "use the server's DNS name in the URL, or pass the SPN explicitly"
      })
    )
  }
  return Either.right(`HTTP/${host.toLowerCase()}`)
}

/**
 * One long-term key: principal, realm, key version number and the key itself.
 *
 * @since 0.2.0
 * @category models
 */
export type ServiceKey = acceptor.ServiceKey

/**
 * Long-term keys from an MIT keytab. The keys are secret: they stay inside a `Redacted`.
 *
 * @since 0.2.0
 * @category models
 */
export interface Keytab {
  /** The principals it holds keys for (`HTTP/tpp.example.com@EXAMPLE.COM`). */
  readonly principals: ReadonlyArray<string>
  readonly keys: Redacted.Redacted<ReadonlyArray<ServiceKey>>
}

const keytabOf = (keys: ReadonlyArray<ServiceKey>): Keytab => ({
  principals: [...new Set(keys.map((k) => principalText(k.principal, k.realm)))],
  keys: Redacted.make(keys)
})

/**
 * Decodes a keytab file's bytes (format 0x0502; entries of other enctypes than AES are left out).
 *
 * @since 0.2.0
 * @category constructors
 */
export const keytabFromBytes = (bytes: Uint8Array): Either.Either<Keytab, KerberosError> =>
  Either.map(attemptDecode("keytab", () => keytab.parseKeytab(bytes)), keytabOf)

/**
 * Reads a keytab file through the hardened reader (`LocalFiles`): a regular file of at most 1 MiB,
 * owned by you or root and not writable by group or others (a link is followed, its target judged);
 * else `KEYTAB_UNREADABLE` or `KEYTAB_UNTRUSTED`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const readKeytab = Effect.fn("Kerberos.readKeytab")(function*(path: string) {
  const bytes = yield* readKeytabBytes(path)
  return yield* keytabFromBytes(bytes)
})

/**
 * The keytab bytes (0x0502) for a keytab: what `ktutil` would write.
 *
 * @since 0.2.0
 * @category encoding
 */
export const keytabToBytes = (k: Keytab, timestamp: Date = new Date(0)): Uint8Array => keytab.writeKeytab(Redacted.value(k.keys), Math.floor(timestamp.getTime() / 1000))

/**
 * Keys derived from a password for every supported enctype (salt: realm + name components, as MIT
 * and Active Directory use for service accounts).
 *
 * @since 0.2.0
 * @category constructors
 */
export const keytabFromPassword = (
  principal: Principal,
  password: Redacted.Redacted<string>,
  options: { readonly kvno?: number; readonly salt?: string } = {}
): Effect.Effect<Keytab> => {
  const salt = new TextEncoder().encode(options.salt ?? principal.realm + principal.name.join(""))
  const secret = new TextEncoder().encode(Redacted.value(password))
  return Effect.map(
    Effect.forEach(enctypes, (e) =>
      Effect.map(e.stringToKey(secret, salt, e.defaultIterations), (keyvalue) => ({
        principal: principalNameOf(principal),
        realm: principal.realm,
        kvno: options.kvno ?? 1,
        key: { keytype: e.id, keyvalue }
      }))),
    keytabOf
  )
}

/**
 * Where the client's key comes from: a password, a keytab, or nothing (a credential cache's
 * tickets only, as after `kinit`).
 *
 * @since 0.2.0
 * @category models
 */
export type Credentials =
  | { readonly _tag: "Password"; readonly password: Redacted.Redacted<string> }
  | { readonly _tag: "Keytab"; readonly keytab: Keytab }
  | { readonly _tag: "CacheOnly" }

/**
 * @since 0.2.0
 * @category models
 */
export interface TicketOptions {
  /** `user@REALM`, `REALM\user` or `user`; optional with a credential cache or a one-principal keytab (they name it). */
  readonly principal?: string
  readonly credentials: Credentials
  /** `HTTP/host` or `HTTP/host@REALM` (see `spnForUrl`). */
  readonly spn: string
  /** The client's realm when the principal names none; else krb5.conf `default_realm`. */
  readonly realm?: string
  /** KDC addresses (`host[:port]`); else krb5.conf `[realms]`, else DNS SRV. */
  readonly kdc?: string | ReadonlyArray<string>
  /**
   * An MIT `FILE:` credential cache (`FILE:/path` or a path, e.g. from `KRB5CCNAME`): tickets in it
   * are used while valid, and new ones are written back (0600, atomically) so that the next run
   * needs no KDC round trip, when the cache's folder is yours alone (not in the shared `/tmp`). The
   * cache is read through `LocalFiles`: one owned by another user, writable by group or others, or
   * a link is `CCACHE_UNTRUSTED`/`CCACHE_UNREADABLE`. Other cache types (`KCM:`, `KEYRING:`, `DIR:`,
   * `MEMORY:`) are a `KerberosError`. Read only when a `TokenStoreFiles` is provided.
   */
  readonly cache?: string
}

/**
 * A service ticket and its session key (secret, inside a `Redacted`).
 *
 * @since 0.2.0
 * @category models
 */
export interface ServiceTicket {
  readonly client: string
  readonly server: string
  readonly expiresAt: Date
  /** How many KDC round trips getting it took (0 when it came from the cache). */
  readonly kdcRoundTrips: number
  readonly credential: Redacted.Redacted<Credential>
}

const attemptDecode = <A>(what: string, f: () => A): Either.Either<A, KerberosError> =>
  Either.try({ try: f, catch: (e) => new KerberosError({ name: "MALFORMED", detail: `${what}: ${e instanceof Error ? e.message : (e as { detail?: string }).detail ?? String(e)}` }) })

const principalNameOf = (p: Principal): PrincipalName => ({
  nameType: p.name.length > 1 ? NameType.srvInst : NameType.principal,
  components: p.name
})

const sameName = (a: PrincipalName, realmA: string, b: PrincipalName, realmB: string) =>
  realmA.toUpperCase() === realmB.toUpperCase() && a.components.length === b.components.length && a.components.every((c, i) => c.toLowerCase() === b.components[i]!.toLowerCase())

/** A minute of margin, so that a ticket does not expire between the KDC and the server. */
const margin = 60_000

/** The path of a `FILE:` cache name (or a bare path); other cache types are not files we can read. */
const cachePath = (name: string): Either.Either<string, KerberosError> => {
  const typed = /^([A-Za-z]+):(.*)$/.exec(name)
  if (typed === null) return Either.right(name)
  if (typed[1]!.toUpperCase() === "FILE") return Either.right(typed[2]!)
  return Either.left(
    new KerberosError({
      name: "CCACHE_TYPE_UNSUPPORTED",
      detail: `credential cache ${name} is of type ${typed[1]}, and only FILE: caches are read`,
      hint: "point KRB5CCNAME at a FILE: cache (kinit -c FILE:/path), or give a password or keytab"
    })
  )
}

/**
 * The principal that owns a credential cache (`FILE:/path` or a path, as in `KRB5CCNAME`): whom
 * `getTicket` acts for when no principal is given. `None` when there is no such file; a cache of a
 * type other than `FILE:`, or one that does not decode, is a `KerberosError`.
 *
 * @since 0.2.0
 * @category operations
 */
export const cachePrincipal = Effect.fn("Kerberos.cachePrincipal")(function*(cache: string) {
  const path = yield* cachePath(cache)
  const cached = yield* readCache(path)
  return Option.map(cached, (c) => principalText(c.principal, c.realm))
})

/**
 * A service ticket for `spn`: from the credential cache while valid, else with the cached TGT (one
 * KDC round trip), else AS then TGS (two, plus one when the KDC asks for pre-authentication).
 * `AuthenticationFailed` when the KDC refuses the credentials, `TransportError` when no KDC answers,
 * `KerberosError` for the rest (unknown SPN, clock skew, ...), with a hint where the user can act.
 *
 * A key is derived from a password at most once per (enctype, salt, iteration count), with the
 * iteration counts MIT accepts (no fewer than the enctype's default) up to 262,144. The derivation
 * runs off the event loop (WebCrypto), so a timeout around this call ends it on time: `VedAuth` runs
 * it under the request timeout; a direct caller should add `Effect.timeout` of its own.
 *
 * @since 0.2.0
 * @category operations
 */
export const getTicket: (
  options: TicketOptions
) => Effect.Effect<ServiceTicket, AuthenticationFailed | KerberosError | TransportError, KdcTransport> = Effect.fn("Kerberos.getTicket")(function*(options: TicketOptions) {
  // With the realm and the KDC given, krb5.conf has nothing to add (cross-realm is not supported,
  // so its domain_realm could only turn a ticket request into an error): it is not read at all.
  const conf = options.realm !== undefined && options.kdc !== undefined && options.kdc.length > 0 ? emptyKrb5Conf : yield* loadKrb5Conf
  if (conf.truncated !== undefined) yield* Effect.logWarning(`vedauth: krb5.conf is larger than vedauth reads: ${conf.truncated}`)
  const now = yield* Clock.currentTimeMillis
  const path = options.cache === undefined ? undefined : yield* cachePath(options.cache)
  const fs = yield* Effect.serviceOption(TokenStoreFiles)
  const cached = path === undefined || Option.isNone(fs) ? Option.none<ccache.CredentialCache>() : yield* readCache(path).pipe(Effect.provideService(TokenStoreFiles, fs.value))
  const defaultRealm = options.realm ?? conf.defaultRealm
  // Without a principal: the cache's owner, else the keytab's only principal.
  const onlyKeytabPrincipal = options.credentials._tag === "Keytab" && options.credentials.keytab.principals.length === 1 ? options.credentials.keytab.principals[0] : undefined
  const clientText = options.principal ?? Option.getOrUndefined(Option.map(cached, (c) => principalText(c.principal, c.realm))) ?? onlyKeytabPrincipal
  if (clientText === undefined) return yield* new KerberosError({ name: "NO_PRINCIPAL", detail: "no user principal given, and neither a credential cache nor a one-principal keytab names one" })
  const client = yield* parsePrincipal(clientText, defaultRealm)
  const clientName = principalNameOf(client)
  const [spnName, spnRealm] = splitAt(options.spn)
  const spnHost = spnName.split("/")[1]
  const serviceRealm = (spnRealm ?? (spnHost === undefined ? undefined : realmOfHost(conf, spnHost)) ?? client.realm).toUpperCase()
  const service: PrincipalName = { nameType: NameType.srvInst, components: spnName.split("/") }
  const krbtgt: PrincipalName = { nameType: NameType.srvInst, components: ["krbtgt", serviceRealm] }
  if (serviceRealm !== client.realm) {
    return yield* new KerberosError({ name: "CROSS_REALM", detail: `${options.spn}@${serviceRealm} is in another realm than ${formatPrincipal(client)}; cross-realm referrals are not supported yet` })
  }
  const usable = (c: Credential, server: PrincipalName) =>
    sameName(c.client, c.crealm, clientName, client.realm) && sameName(c.server, c.srealm, server, serviceRealm) && c.endtime > now + margin
  const inCache = Option.match(cached, { onNone: (): ReadonlyArray<Credential> => [], onSome: (c) => c.credentials })
  const ticketOf = (credential: Credential, kdcRoundTrips: number): ServiceTicket => ({
    client: principalText(credential.client, credential.crealm),
    server: principalText(credential.server, credential.srealm),
    expiresAt: new Date(credential.endtime),
    kdcRoundTrips,
    credential: Redacted.make(credential)
  })
  const hit = inCache.find((c) => usable(c, service))
  if (hit !== undefined) return ticketOf(hit, 0)
  const kdcs = yield* resolveKdcs(client.realm, options.kdc === undefined ? undefined : typeof options.kdc === "string" ? [options.kdc] : options.kdc, conf)
  let tgt = inCache.find((c) => usable(c, krbtgt))
  let roundTrips = 0
  if (tgt === undefined) {
    const credentials = options.credentials
    if (credentials._tag === "CacheOnly") {
      return yield* new KerberosError({ name: "NO_CREDENTIALS", detail: `no valid ticket-granting ticket for ${formatPrincipal(client)} in the credential cache`, hint: "run kinit, or give a password or keytab" })
    }
    const keySource = credentials._tag === "Password"
      ? { _tag: "Password" as const, password: credentials.password }
      : { _tag: "Keys" as const, keys: Redacted.value(credentials.keytab.keys).filter((k) => sameName(k.principal, k.realm, clientName, client.realm)).map((k) => k.key) }
    const obtained = yield* asExchange({ kdcs, client: clientName, realm: client.realm, keySource })
    tgt = obtained.credential
    // One round trip, or two when the KDC first asked for pre-authentication (the usual case).
    roundTrips += obtained.roundTrips
  }
  const serviceTicket = yield* tgsExchange(kdcs, tgt, service)
  roundTrips += 1
  if (path !== undefined && Option.isSome(fs)) {
    const kept = inCache.filter((c) => c.endtime > now && !sameName(c.server, c.srealm, service, serviceRealm) && !sameName(c.server, c.srealm, krbtgt, serviceRealm))
    yield* writeCache(path, { principal: tgt.client, realm: tgt.crealm, credentials: [tgt, serviceTicket, ...kept] }).pipe(Effect.provideService(TokenStoreFiles, fs.value))
  }
  return ticketOf(serviceTicket, roundTrips)
})

/**
 * @since 0.2.0
 * @category models
 */
export interface InitiateOptions {
  /** RFC 5929 `tls-server-end-point` application data of the TLS connection; none over plain HTTP. */
  readonly channelBindings?: Uint8Array
  /** Wrap the token in SPNEGO (the default, what `Negotiate` expects); `false` sends the raw krb5 token. */
  readonly spnego?: boolean
}

/**
 * The initiator's first token and how to finish.
 *
 * @since 0.2.0
 * @category models
 */
export interface Initiator {
  /** For `Authorization: Negotiate <base64 of token>`. */
  readonly token: Uint8Array
  /**
   * Verifies the server's final token (from `WWW-Authenticate: Negotiate <base64>`): an AP-REP that
   * decrypts with the session key and echoes our authenticator, and a valid mechListMIC when one is
   * sent. A missing token is `KRB_AP_ERR_MUT_FAIL`: the server was not authenticated.
   */
  readonly complete: (serverToken: Uint8Array | undefined) => Effect.Effect<void, KerberosError>
}

/**
 * Builds the AP-REQ for a service ticket (mutual authentication, fresh subkey, channel bindings).
 *
 * @since 0.2.0
 * @category operations
 */
export const initiate: (ticket: ServiceTicket, options?: InitiateOptions) => Effect.Effect<Initiator, KerberosError> = Effect.fn("Kerberos.initiate")(
  function*(ticket: ServiceTicket, options: InitiateOptions = {}) {
    const now = yield* Clock.currentTimeMillis
    const { pending, token } = yield* initiator.initiate(Redacted.value(ticket.credential), { channelBindings: options.channelBindings, spnego: options.spnego ?? true, now })
    return {
      token,
      complete: (serverToken: Uint8Array | undefined) => Effect.asVoid(initiator.complete(pending, serverToken))
    }
  }
)

/**
 * @since 0.2.0
 * @category models
 */
export interface AcceptorOptions {
  readonly keytab: Keytab
  /** Allowed clock difference with initiators. Default 5 minutes (MIT's and Windows' default). */
  readonly clockSkew?: Duration.DurationInput
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
  /** The answer for `WWW-Authenticate: Negotiate <base64>` (the AP-REP, SPNEGO-wrapped when the initiator used SPNEGO). */
  readonly token: Uint8Array
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Acceptor {
  /** Checks an initiator's token; `channelBindings` are those of the connection it came on (over TLS). */
  readonly accept: (token: Uint8Array, options?: { readonly channelBindings?: Uint8Array }) => Effect.Effect<Accepted, KerberosError>
}

/**
 * An acceptor with its own replay cache (authenticators seen within the clock skew are refused).
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeAcceptor = (options: AcceptorOptions): Acceptor => {
  const skewMillis = Duration.toMillis(options.clockSkew ?? Duration.minutes(5))
  const seen = new Map<string, number>()
  return {
    accept: Effect.fn("Kerberos.accept")(function*(token: Uint8Array, acceptOptions: { readonly channelBindings?: Uint8Array } = {}) {
      const now = yield* Clock.currentTimeMillis
      const remember = (id: string, expiresAt: number) => {
        for (const [key, until] of seen) if (until < now) seen.delete(key)
        if (seen.has(id)) return false
        seen.set(id, expiresAt)
        return true
      }
      const accepted = yield* acceptor.accept(token, {
        keys: Redacted.value(options.keytab.keys),
        now,
        skewMillis,
        channelBindings: acceptOptions.channelBindings,
        requireChannelBindings: options.requireChannelBindings ?? false,
        remember
      })
      return { client: accepted.client, server: accepted.server, token: accepted.token }
    })
  }
}

/**
 * @since 0.2.0
 * @category models
 */
export interface KdcOptions {
  readonly realm: string
  /** Every principal's keys (users and services), e.g. from `keytabFromPassword`. */
  readonly keytabs: ReadonlyArray<Keytab>
  /** Default 10 hours, as MIT and Active Directory issue. */
  readonly ticketLifetime?: Duration.DurationInput
  /** Default 5 minutes. */
  readonly clockSkew?: Duration.DurationInput
}

/**
 * A minimal KDC for one realm.
 *
 * @since 0.2.0
 * @category models
 */
export interface Kdc {
  readonly realm: string
  /** Answers one AS-REQ or TGS-REQ with a KDC-REP or a KRB-ERROR, at the Clock's time. */
  readonly handle: (request: Uint8Array) => Effect.Effect<Uint8Array>
  /** A `KdcTransport` that hands every message to this KDC, in memory. */
  readonly layer: Layer.Layer<KdcTransport>
}

/**
 * A minimal KDC for one realm, portable like the client (for the simulator, and for tests that need
 * no external KDC): AS with encrypted-timestamp pre-authentication required, TGS for the principals
 * whose keys it holds; its own `krbtgt` key is random. No cross-realm, renewal, delegation or PAC.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeKdc = (options: KdcOptions): Kdc => {
  const realm = options.realm.toUpperCase()
  const krbtgt = enctypes.map((e): ServiceKey => ({
    principal: { nameType: NameType.srvInst, components: ["krbtgt", realm] },
    realm,
    kvno: 1,
    key: { keytype: e.id, keyvalue: crypto.getRandomValues(new Uint8Array(e.keyBytes)) }
  }))
  const settings: kdcServer.KdcOptions = {
    realm,
    keys: [...krbtgt, ...options.keytabs.flatMap((k) => Redacted.value(k.keys))],
    ticketLifetimeMillis: Duration.toMillis(options.ticketLifetime ?? Duration.hours(10)),
    skewMillis: Duration.toMillis(options.clockSkew ?? Duration.minutes(5))
  }
  const handle = (request: Uint8Array) => Effect.map(Clock.currentTimeMillis, (now) => kdcServer.handle(settings, request, now))
  return { realm, handle, layer: layerMemory((_, message) => handle(message)) }
}
