/**
 * Kerberos 5 for Integrated Windows Authentication as Effect values, over `@vedauth/winauth`'s
 * sans-I/O engine: the AS and TGS exchanges carried to the KDC by `KdcTransport`, the keytab and the
 * credential cache read (and the cache written back) through `TokenStoreFiles`, krb5.conf and DNS
 * for the KDCs, the time from the `Clock`, secrets in `Redacted`. The GSS-API mechanism (RFC 4121,
 * channel bindings, mutual authentication) inside SPNEGO (RFC 4178) is the engine's; the acceptor
 * and the KDC a server needs are `@vedauth/winauth/server`'s.
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
 * keytab, an MIT `FILE:` credential cache or a `KCM:` one (sssd-kcm, through a `KcmTransport`),
 * read and updated.
 *
 * @since 0.2.0
 */
import { type CredentialCache, Kerberos as Engine, Keytab as KeytabCodec, Krb5Conf } from "@vedauth/winauth"
import { Clock, Config, Effect, Either, Option, Redacted } from "effect"
import { clientName, guessFailed, namesPrincipal } from "./internal/kerberos/clientRealm.js"
import { runExchange } from "./internal/kerberos/driver.js"
import { step } from "./internal/kerberos/failures.js"
import { readCache, readKeytabBytes, writeCache } from "./internal/kerberos/files.js"
import { defaultKcmName, kcmOwner, kcmResidual, readKcm, storeKcm } from "./internal/kerberos/kcm.js"
import { emptyKrb5Conf, loadKrb5Conf } from "./internal/kerberos/resolve.js"
import type { KdcTransport } from "./KdcTransport.js"
import { KerberosError } from "./KerberosError.js"
import { TokenStoreFiles } from "./TokenStoreFiles.js"
import type { AuthenticationFailed, TransportError } from "./VedAuthError.js"

/**
 * A principal: name components (`["alice"]`, `["HTTP", "tpp.example.com"]`) and realm.
 *
 * @since 0.2.0
 * @category models
 */
export type Principal = Engine.Principal

/**
 * Parses `user@REALM`, `REALM\user` or `user` (with `defaultRealm`); the realm is upper-cased.
 *
 * @since 0.2.0
 * @category constructors
 */
export const parsePrincipal = (text: string, defaultRealm?: string): Either.Either<Principal, KerberosError> =>
  step(() => Engine.parsePrincipal(text, defaultRealm))

/**
 * Whether a user name (`CORP\\alice`, `alice@corp.example`, `alice`) means `principal`
 * (`alice@CORP.EXAMPLE`): the same name, and a domain that is the realm or its first label; case
 * aside. A credential cache whose owner the user so names is the user's.
 *
 * @since 0.2.0
 * @category predicates
 */
export const userNamesPrincipal: (user: string, principal: string) => boolean = namesPrincipal

/**
 * @since 0.2.0
 * @category models
 */
export const formatPrincipal: (p: Principal) => string = Engine.formatPrincipal

/**
 * The SPN of an HTTP server: `HTTP/<host of the URL>`. An IP address has no SPN (Windows clients
 * fall back to NTLM there), so it is an error that says so.
 *
 * @since 0.2.0
 * @category constructors
 */
export const spnForUrl = (url: string): Either.Either<string, KerberosError> => step(() => Engine.spnForUrl(url))

/**
 * One long-term key: principal, realm, key version number and the key itself.
 *
 * @since 0.2.0
 * @category models
 */
export type ServiceKey = KeytabCodec.Entry

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

/**
 * A `Keytab` of some keys.
 *
 * @since 0.2.0
 * @category constructors
 */
export const keytabOf = (keys: ReadonlyArray<ServiceKey>): Keytab => ({
  principals: KeytabCodec.principals(keys),
  keys: Redacted.make(keys)
})

/**
 * Decodes a keytab file's bytes (format 0x0502; entries of other enctypes than AES are left out).
 *
 * @since 0.2.0
 * @category constructors
 */
export const keytabFromBytes = (bytes: Uint8Array): Either.Either<Keytab, KerberosError> =>
  Either.map(step(() => KeytabCodec.decode(bytes)), keytabOf)

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
export const keytabToBytes = (k: Keytab, timestamp: Date = new Date(0)): Uint8Array =>
  KeytabCodec.encode(Redacted.value(k.keys), Math.floor(timestamp.getTime() / 1000))

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
): Effect.Effect<Keytab> =>
  Effect.map(Effect.promise(() => KeytabCodec.fromPassword(principal, Redacted.value(password), options)), keytabOf)

/**
 * Where the client's key comes from: a password, a keytab, or nothing (a credential cache's
 * tickets only, as after `kinit`).
 *
 * @since 0.2.0
 * @category models
 */
export type KeySource =
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
  readonly keySource: KeySource
  /** `HTTP/host` or `HTTP/host@REALM` (see `spnForUrl`). */
  readonly spn: string
  /**
   * The client's realm; it wins over the one a principal names. Else krb5.conf `default_realm`, else
   * its `[domain_realm]` for the SPN's host, else the KDC's canonical answer to the name (with the
   * NetBIOS domain of `CORP\alice`, or the server's DNS domain for `alice`, as a last guess, which
   * an error then names).
   */
  readonly realm?: string
  /** KDC addresses (`host[:port]`); else krb5.conf `[realms]`, else DNS SRV. */
  readonly kdc?: string | ReadonlyArray<string>
  /**
   * An MIT `FILE:` credential cache (`FILE:/path` or a path, e.g. from `KRB5CCNAME`): tickets in it
   * are used while valid, and new ones are written back (0600, atomically) so that the next run
   * needs no KDC round trip, when the cache's folder is yours alone (not in the shared `/tmp`). The
   * cache is read through `LocalFiles`: one owned by another user, writable by group or others, or
   * a link is `CCACHE_UNTRUSTED`/`CCACHE_UNREADABLE`. A `KCM:` cache (`KCM:` alone: the default one,
   * as RHEL's `default_ccache_name = KCM:`) is read and updated through the daemon at krb5.conf's
   * `kcm_socket` (a `KcmTransport`). Other cache types (`KEYRING:`, `DIR:`, `MEMORY:`) are a
   * `KerberosError`. A `FILE:` cache is read only when a `TokenStoreFiles` is provided.
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
  readonly credential: Redacted.Redacted<Engine.Credential>
}

// A Windows domain logon sets USERDNSDOMAIN to the user's realm (`CORP.EXAMPLE`); absent elsewhere.
const windowsLogonRealm = Config.option(Config.string("USERDNSDOMAIN")).pipe(
  Effect.map((value) => Option.getOrUndefined(Option.filter(value, (realm) => realm.trim() !== ""))),
  Effect.orElseSucceed(() => undefined)
)

/** The path of a `FILE:` cache name (or a bare path); other cache types are not files we can read. */
const cachePath = (name: string): Either.Either<string, KerberosError> => {
  const typed = /^([A-Za-z]+):(.*)$/.exec(name)
  if (typed === null) return Either.right(name)
  if (typed[1]!.toUpperCase() === "FILE") return Either.right(typed[2]!)
  return Either.left(
    new KerberosError({
      reason: "CCACHE_TYPE_UNSUPPORTED",
      detail: `credential cache ${name} is of type ${typed[1]}, and only FILE: and KCM: caches are read`,
      hint: "point KRB5CCNAME at a FILE: or KCM: cache (kinit -c FILE:/path), or give a password or keytab"
    })
  )
}

const credentialText = (c: Engine.Credential) => ({
  client: Engine.principalNameText(c.client, c.crealm),
  server: Engine.principalNameText(c.server, c.srealm)
})

/**
 * The principal that owns a credential cache (`FILE:/path` or a path, as in `KRB5CCNAME`): whom
 * `getTicket` acts for when no principal is given. `None` when there is no such file (or KCM cache);
 * a cache of a type other than `FILE:` and `KCM:`, or one that does not decode, is a `KerberosError`.
 * A `KCM:` cache is asked of its daemon through a `KcmTransport` when one is provided.
 *
 * @since 0.2.0
 * @category operations
 */
export const cachePrincipal = Effect.fn("Kerberos.cachePrincipal")(function*(cache: string) {
  const residual = kcmResidual(cache)
  if (residual !== undefined) {
    const kcm = yield* kcmOwner(residual, yield* loadKrb5Conf).pipe(
      Effect.catchTag(
        "TransportError",
        (e) =>
          new KerberosError({
            reason: "CCACHE_UNREADABLE",
            detail:
              `cannot read the credential cache ${cache}: ${e.detail}; is the KCM daemon (sssd-kcm) running, and krb5.conf's kcm_socket its socket?`
          })
      )
    )
    return Option.map(kcm, (c) => Engine.formatPrincipal(c.owner))
  }
  const path = yield* cachePath(cache)
  const cached = yield* readCache(path)
  return Option.map(cached, (c) => Engine.principalNameText(c.principal, c.realm))
})

/**
 * The credential cache `kinit` fills when `KRB5CCNAME` is not set, when vedauth can read it
 * without a name: krb5.conf's `default_ccache_name` when it is `KCM:` (RHEL, Fedora), else `None`
 * (MIT's default `FILE:/tmp/krb5cc_<uid>` is not taken unasked: `/tmp` is shared).
 *
 * @since 0.2.0
 * @category operations
 */
export const defaultCache = Effect.fn("Kerberos.defaultCache")(function*() {
  return Option.fromNullable(defaultKcmName(yield* loadKrb5Conf))
})

const secretOf = (credentials: KeySource): Engine.Secret =>
  credentials._tag === "Password"
    ? { _tag: "Password", password: Redacted.value(credentials.password) }
    : credentials._tag === "Keytab"
    ? { _tag: "Keys", keys: Redacted.value(credentials.keytab.keys) }
    : { _tag: "None" }

const splitRealm = (spn: string): [string, string | undefined] => {
  const at = spn.lastIndexOf("@")
  return at < 0 ? [spn, undefined] : [spn.slice(0, at), spn.slice(at + 1)]
}

/**
 * A service ticket for `spn`: from the credential cache while valid, else with the cached TGT (one
 * KDC round trip), else AS then TGS (two, plus one when the KDC asks for pre-authentication). A
 * service in another realm (the SPN's `@REALM`, krb5.conf `[domain_realm]`, or the client realm
 * KDC's referral) costs one more TGS per realm on the way (krb5.conf `[capaths]`), each realm's KDCs
 * from krb5.conf `[realms]` or DNS SRV (the `kdc` option serves the client's realm only); every new
 * ticket, cross-realm TGTs included, is written back to the cache.
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
) => Effect.Effect<ServiceTicket, AuthenticationFailed | KerberosError | TransportError, KdcTransport> = Effect.fn(
  "Kerberos.getTicket"
)(function*(options: TicketOptions) {
  // With the realm and the KDC given, krb5.conf is not read at all (a refused one must not stop a
  // login that names everything): a service in another realm is then found by its SPN's realm
  // (`HTTP/host@REALM`) or the KDC's referral, that realm's KDCs by DNS SRV. A KCM: cache needs
  // krb5.conf's kcm_socket.
  const residual = kcmResidual(options.cache)
  const conf =
    options.realm !== undefined && options.kdc !== undefined && options.kdc.length > 0 && residual === undefined
      ? emptyKrb5Conf
      : yield* loadKrb5Conf
  if (conf.truncated !== undefined) {
    yield* Effect.logWarning(`vedauth: krb5.conf is larger than vedauth reads: ${conf.truncated}`)
  }
  const path = options.cache === undefined || residual !== undefined ? undefined : yield* cachePath(options.cache)
  const fs = yield* Effect.serviceOption(TokenStoreFiles)
  // With a password or keytab, a KCM daemon that cannot be reached is no cache (said at warning level).
  const kcm = residual === undefined ? Option.none() : yield* readKcm(residual, conf).pipe(
    Effect.catchTag("TransportError", (e) =>
      options.keySource._tag === "CacheOnly"
        ? Effect.fail(e)
        : Effect.as(
          Effect.logWarning(`vedauth: the credential cache ${options.cache} is not read: ${e.detail}`),
          Option.none()
        ))
  )
  const cached = Option.isSome(kcm)
    ? Option.some(kcm.value.cache)
    : path === undefined || Option.isNone(fs)
    ? Option.none<CredentialCache.CredentialCache>()
    : yield* readCache(path).pipe(Effect.provideService(TokenStoreFiles, fs.value))
  // Without a principal: the cache's owner, else the keytab's only principal.
  const onlyKeytabPrincipal = options.keySource._tag === "Keytab" && options.keySource.keytab.principals.length === 1
    ? options.keySource.keytab.principals[0]
    : undefined
  const cacheOwner = Option.getOrUndefined(Option.map(cached, (c) => Engine.principalNameText(c.principal, c.realm)))
  // `CORP\alice` whose kinit cache is alice@CORP.EXAMPLE's: the cache says the realm.
  const clientText =
    options.principal !== undefined && cacheOwner !== undefined && namesPrincipal(options.principal, cacheOwner)
      ? cacheOwner
      : options.principal ?? cacheOwner ?? onlyKeytabPrincipal
  if (clientText === undefined) {
    return yield* new KerberosError({
      reason: "NO_PRINCIPAL",
      detail: "no user principal given, and neither a credential cache nor a one-principal keytab names one"
    })
  }
  const [spnName, spnRealm] = splitRealm(options.spn)
  const spnHost = spnName.split("/")[1]
  const logonRealm = options.realm === undefined ? yield* windowsLogonRealm : undefined
  const resolved = yield* clientName(clientText, {
    realm: options.realm,
    conf,
    serviceHost: spnHost,
    enterpriseAllowed: options.keySource._tag === "Password",
    logonRealm
  })
  const client = resolved.principal
  // The service's realm: the SPN's, else krb5.conf [domain_realm] for its host, else a guess (the
  // client's), which the client realm's KDC corrects with a referral.
  const knownRealm = (spnRealm ?? (spnHost === undefined ? undefined : Krb5Conf.realmOfHost(conf, spnHost)))
    ?.toUpperCase()
  const serviceRealm = knownRealm ?? client.realm
  const inCache = Option.match(cached, {
    onNone: (): ReadonlyArray<Engine.Credential> => [],
    onSome: (c) => c.credentials
  })
  const exchange = Engine.ticketExchange({
    client,
    service: { name: spnName.split("/"), realm: serviceRealm },
    secret: secretOf(options.keySource),
    cached: inCache,
    path: Krb5Conf.capath(conf, client.realm, serviceRealm),
    serviceRealmGuessed: knownRealm === undefined,
    ...(resolved.enterprise ? { enterprise: true } : {})
  })
  const given = options.kdc === undefined ? undefined : typeof options.kdc === "string" ? [options.kdc] : options.kdc
  const guess = resolved.guess
  // `given` serves the client's realm only; other realms' KDCs come from krb5.conf [realms] or DNS SRV.
  const done = yield* runExchange(exchange, client.realm, given, conf).pipe(
    // A guessed realm that the KDC did not correct (canonicalize) is the likely cause: say so.
    Effect.catchIf(
      (error): error is KerberosError | TransportError =>
        guess !== undefined && exchange.clientRealm() === client.realm &&
        (error._tag === "KerberosError" || error._tag === "TransportError"),
      (error) => Effect.fail(guessFailed(resolved, guess!, error, spnHost))
    )
  )
  if (Option.isSome(kcm) && done.obtained.length > 0) yield* storeKcm(kcm.value, done.obtained)
  if (done.tgt !== undefined && done.obtained.length > 0 && path !== undefined && Option.isSome(fs)) {
    const now = yield* Clock.currentTimeMillis
    // Every new ticket (the TGT, cross-realm TGTs, the service ticket) replaces its older copy.
    const replaced = (c: Engine.Credential) => done.obtained.some((o) => Engine.sameServer(c, o))
    const kept = inCache.filter((c) => c.endtime > now && !replaced(c))
    yield* writeCache(path, {
      principal: done.tgt.client,
      realm: done.tgt.crealm,
      credentials: [...done.obtained, ...kept]
    }).pipe(Effect.provideService(TokenStoreFiles, fs.value))
  }
  return {
    ...credentialText(done.ticket),
    expiresAt: new Date(done.ticket.endtime),
    kdcRoundTrips: done.roundTrips,
    credential: Redacted.make(done.ticket)
  }
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
export const initiate: (ticket: ServiceTicket, options?: InitiateOptions) => Effect.Effect<Initiator, KerberosError> =
  Effect.fn("Kerberos.initiate")(
    function*(ticket: ServiceTicket, options: InitiateOptions = {}) {
      const now = yield* Clock.currentTimeMillis
      const started = yield* step(() =>
        Engine.initiate(Redacted.value(ticket.credential), {
          channelBindings: options.channelBindings,
          spnego: options.spnego ?? true,
          now
        })
      )
      return {
        token: started.token,
        complete: (serverToken: Uint8Array | undefined) => step(() => started.complete(serverToken))
      }
    }
  )
