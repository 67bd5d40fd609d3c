/**
 * Negotiate (Kerberos) to an HTTP proxy: a service ticket for `HTTP/<proxy host>` from the same
 * sources as the login (keytab, password, credential cache), through core's public `Kerberos`
 * (`getTicket`, `initiate`), and a fresh AP-REQ for each CONNECT. The ticket is kept in memory
 * until a minute before it ends, so later tunnels cost no KDC round trip.
 * @internal
 */
import { Kerberos } from "@vedauth/core"
import { KdcTransport } from "@vedauth/core/KdcTransport"
import { TokenStoreFiles } from "@vedauth/core/TokenStoreFiles"
import { KerberosError } from "@vedauth/core/VedAuthError"
import { Cause, Clock, Effect, Exit, Layer, Option, Redacted } from "effect"
import * as Net from "node:net"
import * as NodeKdcTransport from "../NodeKdcTransport.js"
import * as NodeTokenStoreFiles from "../NodeTokenStoreFiles.js"
import { isDirect, type Proxy, type Routes } from "./proxy.js"
import { type ProxyNegotiate, ProxyRefused } from "./tunnel.js"

/**
 * Where the proxy's Kerberos ticket comes from; `NodeVedAuth` fills it from the login's `username`,
 * `password` and `kerberos` settings.
 * @internal
 */
export interface ProxyKerberos {
  /** `user@REALM` (or `user`, with `realm`); optional with a credential cache or a one-principal keytab. */
  readonly principal?: string
  /** The user's password, or an effect that yields it (run only when no keytab or cache is given). */
  readonly password?: Redacted.Redacted<string> | Effect.Effect<Redacted.Redacted<string>, unknown>
  /** An MIT keytab file with the user's keys. */
  readonly keytab?: string
  /** An MIT `FILE:` credential cache. */
  readonly cache?: string
  readonly realm?: string
  readonly kdc?: string | ReadonlyArray<string>
}

/** A minute of margin, as core's own: a ticket does not run out between the KDC and the proxy. */
const margin = 60_000

const keySourceOf = (settings: ProxyKerberos) =>
  Effect.gen(function*() {
    if (settings.keytab !== undefined) {
      return { _tag: "Keytab", keytab: yield* Kerberos.readKeytab(settings.keytab) } as const
    }
    const password = settings.password
    if (password === undefined || (settings.cache !== undefined && !Redacted.isRedacted(password))) {
      return { _tag: "CacheOnly" } as const
    }
    // A password effect (a prompt) runs only when nothing else can give a ticket.
    const value = Redacted.isRedacted(password)
      ? password
      : yield* Effect.orElseFail(password, () =>
        new KerberosError({ reason: "NO_CREDENTIALS", detail: "the password could not be had" }))
    return { _tag: "Password", password: value } as const
  })

const base64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64")

/**
 * The `ProxyNegotiate` of a layer: its tickets, and the proxies that asked for Negotiate.
 * @internal
 */
export const make = (
  settings: ProxyKerberos,
  services: Layer.Layer<KdcTransport | TokenStoreFiles>
): ProxyNegotiate => {
  const tickets = new Map<string, Kerberos.ServiceTicket>()
  const wanted = new Set<string>()
  const ticketFor = (spn: string) =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const kept = tickets.get(spn)
      if (kept !== undefined && kept.expiresAt.getTime() > now + margin) return kept
      const ticket = yield* Kerberos.getTicket({
        ...(settings.principal === undefined ? {} : { principal: settings.principal }),
        keySource: yield* keySourceOf(settings),
        spn,
        ...(settings.realm === undefined ? {} : { realm: settings.realm }),
        ...(settings.kdc === undefined ? {} : { kdc: settings.kdc }),
        ...(settings.cache === undefined ? {} : { cache: settings.cache })
      })
      tickets.set(spn, ticket)
      return ticket
    })
  const token = (proxy: Proxy) =>
    Effect.gen(function*() {
      // MIT refuses SPNs for IP addresses: the proxy must be named by its host name.
      const spn = yield* Kerberos.spnForUrl(`http://${Net.isIPv6(proxy.host) ? `[${proxy.host}]` : proxy.host}/`)
      const ticket = yield* ticketFor(spn)
      // The proxy connection is plain TCP: no channel bindings. SPNEGO, as `Negotiate` expects.
      const initiator = yield* Kerberos.initiate(ticket)
      return { header: Redacted.make(`Negotiate ${base64(initiator.token)}`), client: ticket.client, spn }
    })
  return {
    wanted: (proxy) => wanted.has(proxy.shown),
    authorization: async (proxy, signal) => {
      wanted.add(proxy.shown)
      const exit = await Effect.runPromiseExit(Effect.provide(token(proxy), services), { signal })
      if (Exit.isSuccess(exit)) return exit.value
      // The typed failures' messages carry no secret (core's rule); a defect says nothing more.
      const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
      const reason = error === undefined ? undefined : error.message
      const why = reason === undefined ? "no Kerberos ticket could be had" : `no Kerberos ticket for it: ${reason}`
      throw new ProxyRefused(
        `proxy authentication required by the proxy ${proxy.shown} (it offers Negotiate): ${why}`,
        407
      )
    }
  }
}

/**
 * What getting the proxy's ticket runs on: the layer's own `KdcTransport` and `TokenStoreFiles`
 * when its context has them (`NodeVedAuth` provides its KDC settings), else Node's defaults.
 * @internal
 */
export const services: Effect.Effect<Layer.Layer<KdcTransport | TokenStoreFiles>> = Effect.map(
  Effect.all([Effect.serviceOption(KdcTransport), Effect.serviceOption(TokenStoreFiles)]),
  ([kdc, files]) =>
    Layer.merge(
      Option.match(kdc, {
        onNone: () => NodeKdcTransport.layer(),
        onSome: (service) => Layer.succeed(KdcTransport, service)
      }),
      Option.match(files, {
        onNone: () => NodeTokenStoreFiles.layer,
        onSome: (service) => Layer.succeed(TokenStoreFiles, service)
      })
    )
)

/**
 * The `ProxyNegotiate` of a layer's options, when it has proxy Kerberos settings and a proxy; the
 * same one for the same settings value.
 * @internal
 */
export const forOptions = (
  options: { readonly proxyKerberos?: ProxyKerberos | undefined },
  routes: Routes,
  layer: Layer.Layer<KdcTransport | TokenStoreFiles>
): ProxyNegotiate | undefined => {
  const settings = options.proxyKerberos
  if (settings === undefined || isDirect(routes)) return undefined
  const known = made.get(settings)
  if (known !== undefined) return known
  const negotiate = make(settings, layer)
  made.set(settings, negotiate)
  return negotiate
}

// One per settings value: `NodeVedAuth`'s transport and HTTP client share its ticket and what it learnt.
const made = new WeakMap<ProxyKerberos, ProxyNegotiate>()
