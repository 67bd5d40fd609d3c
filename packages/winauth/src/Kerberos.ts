/**
 * The Kerberos client (RFC 4120, RFC 4121 inside SPNEGO, RFC 4178) as a state machine on bytes: a
 * service ticket from a password, long-term keys or cached tickets, then the initiator's token for
 * `Authorization: Negotiate` and the check of the server's answer (mutual authentication, channel
 * bindings, the SPNEGO mechListMIC).
 *
 * No I/O: `ticketExchange` says which realm's KDC to send each message to and is resumed with the
 * reply; finding the KDC (krb5.conf, DNS) and carrying the bytes (TCP with a 4-byte length, or UDP)
 * are the caller's. The only thing awaited is WebCrypto's PBKDF2, for a key from a password.
 *
 * @since 0.2.0
 */
import { KerberosFailure } from "./Failure.js"
import * as initiator from "./internal/kerberos/initiator.js"
import type { Credential } from "./internal/kerberos/kdcClient.js"
import {
  asExchange,
  type Exchange,
  isKrbtgt,
  type KdcReply,
  type KdcRequest,
  type KeySource,
  tgsExchange,
  tgtRealm
} from "./internal/kerberos/kdcClient.js"
import { type EncryptionKey, NameType, type PrincipalName, principalText } from "./internal/kerberos/types.js"
import type * as Keytab from "./Keytab.js"
import { boundText } from "./PeerText.js"

export type {
  /**
   * A ticket with what the client needs to use it (its session key is secret).
   *
   * @since 0.2.0
   * @category models
   */
  Credential,
  /**
   * @since 0.2.0
   * @category models
   */
  EncryptionKey,
  /**
   * A principal name as the protocol carries it (name type and components, no realm).
   *
   * @since 0.2.0
   * @category models
   */
  PrincipalName
}

/**
 * `alice@EXAMPLE.COM` or `HTTP/tpp.example.com@EXAMPLE.COM` as parts.
 *
 * @since 0.2.0
 * @category models
 */
export interface Principal {
  readonly name: ReadonlyArray<string>
  readonly realm: string
}

const splitAt = (text: string): [string, string | undefined] => {
  const at = text.lastIndexOf("@")
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)]
}

/**
 * Reads `user@REALM`, `REALM\user` (the domain taken as the realm) or `user` (with `defaultRealm`).
 * The realm is upper-cased, as Kerberos realms are. Throws `KerberosFailure` (`BAD_PRINCIPAL`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const parsePrincipal = (text: string, defaultRealm?: string): Principal => {
  const bad = (detail: string) => new KerberosFailure({ reason: "BAD_PRINCIPAL", detail })
  const backslash = text.indexOf("\\")
  const [name, realm] = backslash >= 0 ? [text.slice(backslash + 1), text.slice(0, backslash)] : splitAt(text)
  const effectiveRealm = realm ?? defaultRealm
  if (name === "" || name.split("/").some((c) => c === "")) throw bad(`"${text}" has an empty name`)
  if (effectiveRealm === undefined || effectiveRealm === "") {
    throw bad(`"${text}" names no realm, and no default realm is configured (realm option or krb5.conf default_realm)`)
  }
  // Windows domains are NetBIOS or DNS names; Kerberos realms are the upper-case DNS name.
  return { name: name.split("/"), realm: effectiveRealm.toUpperCase() }
}

/**
 * @since 0.2.0
 * @category formatting
 */
export const formatPrincipal = (p: Principal): string => `${p.name.join("/")}@${p.realm}`

/**
 * `name@realm` of a protocol principal name.
 *
 * @since 0.2.0
 * @category formatting
 */
export const principalNameText: (p: PrincipalName, realm: string) => string = principalText

/**
 * The protocol's name for a principal (NT-SRV-INST for `service/host`, NT-PRINCIPAL for a user).
 *
 * @since 0.2.0
 * @category constructors
 */
export const principalName = (p: Principal): PrincipalName => ({
  nameType: p.name.length > 1 ? NameType.srvInst : NameType.principal,
  components: p.name
})

/**
 * The SPN of an HTTP server: `HTTP/<host of the URL>`. An IP address has no SPN (Windows clients
 * fall back to NTLM there): `KerberosFailure` `SPN_FOR_IP_ADDRESS`, as is a text that is no URL
 * (`BAD_URL`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const spnForUrl = (url: string): string => {
  let host: string
  try {
    host = new URL(url).hostname
  } catch {
    throw new KerberosFailure({ reason: "BAD_URL", detail: `"${url}" is not a URL` })
  }
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[")) {
    throw new KerberosFailure({
      reason: "SPN_FOR_IP_ADDRESS",
      detail: `${host} is an IP address, and Kerberos service tickets are issued for names (HTTP/<fqdn>)`,
      hint: "use the server's DNS name in the URL, or pass the SPN explicitly"
    })
  }
  return `HTTP/${host.toLowerCase()}`
}

/**
 * Where the client's key comes from: a password, keytab entries, or nothing (cached tickets only,
 * as after `kinit`).
 *
 * @since 0.2.0
 * @category models
 */
export type Secret =
  | { readonly _tag: "Password"; readonly password: string }
  | { readonly _tag: "Keys"; readonly keys: ReadonlyArray<Keytab.Entry> }
  | { readonly _tag: "None" }

/**
 * @since 0.2.0
 * @category models
 */
export interface TicketRequest {
  readonly client: Principal
  /** `HTTP/tpp.example.com@EXAMPLE.COM`. */
  readonly service: Principal
  readonly secret: Secret
  /**
   * Tickets from a credential cache: a valid service ticket, TGT or cross-realm TGT there saves KDC
   * round trips.
   */
  readonly cached?: ReadonlyArray<Credential>
  /**
   * The realms between the client's and the service's, in order (krb5.conf `[capaths]`): a
   * cross-realm TGT is asked for each in turn. None: the service realm's TGT is asked for directly.
   */
  readonly path?: ReadonlyArray<string>
  /**
   * The service's realm is a guess (the client's own, for want of a `[domain_realm]` entry): the
   * client realm's KDC is asked and its referral followed, and a cached ticket for the service's
   * name serves whatever realm it came from.
   */
  readonly serviceRealmGuessed?: boolean
  /** The TGT's requested lifetime; the KDC caps it. Default 24 hours. */
  readonly lifetimeMillis?: number
  /** A cached ticket is used only when it is valid this much longer. Default one minute. */
  readonly marginMillis?: number
  /**
   * Send the client's name as an enterprise name (NT-ENTERPRISE, RFC 6806), as Windows clients do
   * for a UPN: `client.name` is then one component, `user@suffix` (`alice@corp.example`,
   * `alice@CORP`), and `client.realm` the realm whose KDC is asked; the KDC answers with the
   * canonical name and realm.
   */
  readonly enterprise?: boolean
  /**
   * Ask the KDC to canonicalize the client's name and realm (default true, as Windows and MIT's
   * `kinit -C`). The AS-REP may then name another realm than asked (Active Directory answers
   * `alice@CORP` with `alice@CORP.TEST`), accepted only with that realm's own
   * `krbtgt/REALM@REALM`; the service ticket is then asked of that realm's KDC (`clientRealm`).
   */
  readonly canonicalize?: boolean
}

/**
 * What the exchange needs next: a message for `realm`'s KDC, or nothing more (the ticket).
 *
 * @since 0.2.0
 * @category models
 */
export type Step =
  | KdcRequest
  | {
    readonly _tag: "Done"
    readonly ticket: Credential
    /** The client realm's TGT used (new or cached); undefined when the service ticket came from the cache. */
    readonly tgt: Credential | undefined
    /**
     * Every credential the KDCs issued in this exchange, in order (the TGT when new, cross-realm
     * TGTs, the service ticket): what a credential cache should keep. Empty from the cache.
     */
    readonly obtained: ReadonlyArray<Credential>
    /**
     * KDC round trips taken (0 from the cache; AS with pre-authentication then TGS is 3; one more
     * per cross-realm TGT).
     */
    readonly roundTrips: number
  }

/**
 * A service ticket exchange in progress. `start` once, then `receive` each reply, until `Done`.
 * A failure (the KDC's refusal, a reply that does not check) rejects with `KerberosFailure`;
 * `refusedClient` is set when the KDC refused the client's credentials.
 *
 * @since 0.2.0
 * @category models
 */
export interface TicketExchange {
  readonly start: (now: number) => Promise<Step>
  readonly receive: (reply: Uint8Array, now: number) => Promise<Step>
  /**
   * The client's realm: the one asked for until the KDC answers with its canonical realm, that one
   * after. The KDC that answered for the asked realm holds the canonical realm's key (it sealed the
   * TGT with it), so a caller may send that realm's messages to the same KDC.
   */
  readonly clientRealm: () => string
}

const sameName = (a: PrincipalName, realmA: string, b: PrincipalName, realmB: string) =>
  realmA.toUpperCase() === realmB.toUpperCase() && a.components.length === b.components.length &&
  a.components.every((c, i) => c.toLowerCase() === b.components[i]!.toLowerCase())

/**
 * True when two credentials are tickets for the same server (names compare case-insensitively, as
 * KDCs canonicalize case): a new ticket replaces the older one in a cache.
 *
 * @since 0.2.0
 * @category predicates
 */
export const sameServer = (a: Credential, b: Credential): boolean => sameName(a.server, a.srealm, b.server, b.srealm)

/**
 * The most realms one service ticket passes through, the client's own included: forests and their
 * trusts are a few realms deep; a longer chain of referrals is a loop or a hostile KDC.
 *
 * @since 0.2.0
 * @category constants
 */
export const maxRealms = 8

/** The most messages one exchange sends: AS twice (pre-authentication), then one TGS per realm. */
const maxSteps = 2 + maxRealms

const krbtgtOf = (realm: string): PrincipalName => ({ nameType: NameType.srvInst, components: ["krbtgt", realm] })

const modified = (detail: string) => new KerberosFailure({ reason: "KRB_AP_ERR_MODIFIED", detail })

/**
 * The realms an exchange has reached, in order: each hop must be to a realm not reached before and
 * within `maxRealms`, issued by the realm the exchange is in, for the same client.
 */
const journey = (first: Credential) => {
  const visited = [tgtRealm(first).toUpperCase()]
  const clientText = principalText(first.client, first.crealm)
  const sameClient = (c: Credential) => {
    if (!sameName(c.client, c.crealm, first.client, first.crealm)) {
      throw modified(
        `a KDC on the way issued a ticket to ${boundText(principalText(c.client, c.crealm))}, not to ${clientText}`
      )
    }
  }
  return {
    /** Checks a ticket issued in the current realm for the client (`from` is the TGT that asked). */
    issued: (from: Credential, c: Credential) => {
      sameClient(c)
      const here = tgtRealm(from)
      if (c.srealm.toUpperCase() !== here.toUpperCase()) {
        throw modified(`${here}'s KDC issued a ticket of realm ${boundText(c.srealm)}`)
      }
    },
    /** Records a hop to `realm` (refused when visited before or past the bound). */
    enter: (realm: string) => {
      const name = realm.toUpperCase()
      if (visited.includes(name)) {
        throw new KerberosFailure({
          reason: "KDC_REFERRAL_LOOP",
          detail: `the KDCs refer back to ${boundText(name)} (path ${visited.join(" → ")})`,
          hint: "check the realms' trusts and krb5.conf [capaths]"
        })
      }
      if (visited.length >= maxRealms) {
        throw new KerberosFailure({
          reason: "KDC_REFERRAL_TOO_LONG",
          detail: `more than ${maxRealms} realms on the way to the service (path ${visited.join(" → ")} → ${
            boundText(name)
          })`
        })
      }
      visited.push(name)
    }
  }
}

/** The AS exchange for the client realm's TGT, with the request's password or keys. */
const login = (request: TicketRequest, client: PrincipalName, now: number) => {
  const secret = request.secret
  if (secret._tag === "None") {
    throw new KerberosFailure({
      reason: "NO_CREDENTIALS",
      detail: `no valid ticket-granting ticket for ${formatPrincipal(request.client)} in the credential cache`,
      hint: "run kinit, or give a password or keytab"
    })
  }
  const keySource: KeySource = secret._tag === "Password"
    ? secret
    : {
      _tag: "Keys",
      keys: secret.keys.filter((k) => sameName(k.principal, k.realm, client, request.client.realm)).map((k) => k.key)
    }
  return asExchange({
    client,
    realm: request.client.realm,
    keySource,
    ...(request.canonicalize === undefined ? {} : { canonicalize: request.canonicalize }),
    ...(request.lifetimeMillis === undefined ? {} : { lifetimeMillis: request.lifetimeMillis })
  }, now)
}

async function* serviceTicket(
  request: TicketRequest,
  now: number,
  onTgt: (tgt: Credential) => void
): Exchange<Extract<Step, { readonly _tag: "Done" }>> {
  const client: PrincipalName = request.enterprise === true
    ? { nameType: NameType.enterprise, components: [request.client.name.join("/")] }
    : principalName(request.client)
  const service = principalName(request.service)
  const clientRealm = request.client.realm
  const serviceRealm = request.service.realm.toUpperCase()
  const margin = request.marginMillis ?? 60_000
  const cached = (request.cached ?? []).filter((c) =>
    sameName(c.client, c.crealm, client, clientRealm) && c.endtime > now + margin
  )
  const anyRealm = request.serviceRealmGuessed === true
  const hit = cached.find((c) => sameName(c.server, c.srealm, service, anyRealm ? c.srealm : serviceRealm))
  if (hit !== undefined) return { _tag: "Done", ticket: hit, tgt: undefined, obtained: [], roundTrips: 0 }
  const cachedTgt = (issuer: string, target: string) =>
    cached.find((c) => sameName(c.server, c.srealm, krbtgtOf(target), issuer))
  const obtained: Array<Credential> = []
  let roundTrips = 0
  let at = now
  const clock = (t: number) => (at = t)
  let tgt: Credential
  const reused = cachedTgt(clientRealm, clientRealm)
  if (reused !== undefined) tgt = reused
  else {
    const got = yield* timed(login(request, client, now), clock)
    tgt = got.credential
    obtained.push(tgt)
    roundTrips += got.roundTrips
  }
  // The realm the KDC put the client in: the canonical one when it canonicalized the name.
  onTgt(tgt)
  const first = tgt
  const hops = journey(first)
  // The service realm known: a cross-realm TGT for each realm on the path ([capaths]), cached or asked
  // for. A guessed one is left to the KDCs' referrals (it may be the realm the KDC just corrected).
  const path = anyRealm || serviceRealm === tgtRealm(first).toUpperCase() ? [] : [...(request.path ?? []), serviceRealm]
  for (const next of path) {
    hops.enter(next)
    const reuse = cachedTgt(tgtRealm(tgt), next)
    if (reuse !== undefined) {
      tgt = reuse
      continue
    }
    const cross = yield* timed(tgsExchange(tgt, krbtgtOf(next), at), clock)
    roundTrips++
    hops.issued(tgt, cross)
    obtained.push(cross)
    tgt = cross
  }
  // The service, following the KDCs' referrals (RFC 6806) to the realm that holds it.
  for (;;) {
    const got = yield* timed(tgsExchange(tgt, service, at, true), clock)
    roundTrips++
    hops.issued(tgt, got)
    obtained.push(got)
    if (!isKrbtgt(got.server) || isKrbtgt(service)) {
      if (!sameName(got.server, got.srealm, service, tgtRealm(tgt))) {
        throw modified(
          `asked ${tgtRealm(tgt)} for ${principalText(service, tgtRealm(tgt))}, the KDC issued a ticket for ${
            boundText(principalText(got.server, got.srealm))
          }`
        )
      }
      return { _tag: "Done", ticket: got, tgt: first, obtained, roundTrips }
    }
    hops.enter(tgtRealm(got))
    tgt = got
  }
}

/** Runs an inner exchange, noting the time of each reply it is resumed with. */
async function* timed<A>(inner: Exchange<A>, onReply: (now: number) => void): Exchange<A> {
  let next = await inner.next()
  while (next.done !== true) {
    const answer: KdcReply = yield next.value
    onReply(answer.now)
    next = await inner.next(answer)
  }
  return next.value
}

/**
 * A service ticket for `request.service`: from the cached tickets while valid, else with a cached
 * TGT (one KDC round trip), else AS then TGS (two, plus one when the KDC asks for
 * pre-authentication). A service in another realm costs one TGS per realm on the way: a cross-realm
 * TGT for each realm of `request.path` and the service's (reused from the cache while valid), and
 * the KDCs' referrals (RFC 6806, `krbtgt/OTHER`) are followed, each hop checked (issued by the realm
 * the exchange is in, for the same client, to a realm not visited before, at most `maxRealms`
 * realms), the last ticket for the service's name in the realm the last hop names. A key is derived from a password at most once per (enctype, salt, iteration
 * count), with the counts MIT accepts (no fewer than the enctype's default) up to 262,144.
 *
 * @since 0.2.0
 * @category constructors
 */
export const ticketExchange = (request: TicketRequest): TicketExchange => {
  let running: Exchange<Extract<Step, { readonly _tag: "Done" }>> | undefined
  let steps = 0
  let clientRealm = request.client.realm
  const advance = async (
    next: Promise<IteratorResult<KdcRequest, Extract<Step, { readonly _tag: "Done" }>>>
  ): Promise<Step> => {
    const result = await next
    if (result.done === true) return result.value
    if (++steps > maxSteps) {
      throw new KerberosFailure({
        reason: "TOO_MANY_STEPS",
        detail: `more than ${maxSteps} KDC messages for one ticket`
      })
    }
    return result.value
  }
  return {
    start: (now) => {
      if (running !== undefined) {
        return Promise.reject(
          new KerberosFailure({ reason: "EXCHANGE_STARTED", detail: "the exchange was already started" })
        )
      }
      running = serviceTicket(request, now, (tgt) => (clientRealm = tgt.crealm))
      return advance(running.next())
    },
    receive: (reply, now) => {
      if (running === undefined) {
        return Promise.reject(new KerberosFailure({ reason: "EXCHANGE_NOT_STARTED", detail: "receive before start" }))
      }
      return advance(running.next({ reply, now }))
    },
    clientRealm: () => clientRealm
  }
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
   * Checks the server's final token (from `WWW-Authenticate: Negotiate <base64>`): an AP-REP that
   * decrypts with the session key and echoes our authenticator, and a valid mechListMIC when one is
   * sent. A missing token throws `KRB_AP_ERR_MUT_FAIL`: the server was not authenticated.
   */
  readonly complete: (serverToken: Uint8Array | undefined) => void
}

/**
 * @since 0.2.0
 * @category models
 */
export interface InitiateOptions {
  /** RFC 5929 `tls-server-end-point` application data of the TLS connection; none over plain HTTP. */
  readonly channelBindings?: Uint8Array | undefined
  /** Wrap the token in SPNEGO (the default, what `Negotiate` expects); `false` sends the raw krb5 token. */
  readonly spnego?: boolean
  /** Epoch milliseconds, for the authenticator. */
  readonly now: number
}

/**
 * The AP-REQ for a service ticket (mutual authentication, a fresh subkey, channel bindings), and
 * the check of the answer. Throws `KerberosFailure` when the ticket's session key is of an enctype
 * not spoken here.
 *
 * @since 0.2.0
 * @category constructors
 */
export const initiate = (ticket: Credential, options: InitiateOptions): Initiator => {
  const { pending, token } = initiator.initiate(ticket, {
    channelBindings: options.channelBindings,
    spnego: options.spnego ?? true,
    now: options.now
  })
  return { token, complete: (serverToken) => void initiator.complete(pending, serverToken) }
}
