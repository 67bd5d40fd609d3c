/**
 * How Kerberos messages reach a KDC: one request, one reply, over TCP with the 4-byte length prefix
 * of RFC 4120 section 7.2.2. Platform packages provide layers (`NodeKdcTransport`); `layerMemory`
 * answers from a function, for tests and for an in-process KDC.
 *
 * @since 0.2.0
 */
import { Clock, Context, Effect, Layer } from "effect"
import { TransportError } from "./VedAuthError.js"

/**
 * A KDC's address: host name or IP literal (IPv6 without brackets), and port (88 by default).
 *
 * @since 0.2.0
 * @category models
 */
export interface KdcAddress {
  readonly host: string
  readonly port: number
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /**
   * Sends one DER message (AS-REQ, TGS-REQ) to one KDC and returns its reply (a KDC-REP or a
   * KRB-ERROR, undecoded). Fails with `TransportError` when the KDC cannot be reached, closes the
   * connection, answers too much, or takes longer than the layer's timeout.
   */
  readonly send: (kdc: KdcAddress, message: Uint8Array) => Effect.Effect<Uint8Array, TransportError>
  /** The KDCs DNS names for a realm (`_kerberos._tcp.REALM` SRV records), when the platform can ask DNS. */
  readonly lookup?: (realm: string) => Effect.Effect<ReadonlyArray<KdcAddress>, TransportError>
}

/**
 * @since 0.2.0
 * @category tags
 */
export class KdcTransport extends Context.Tag("@vedauth/core/KdcTransport")<KdcTransport, Service>() {}

/**
 * Parses `host`, `host:port`, `[v6]:port` or a bare IPv6 literal (default port 88), with MIT's
 * optional `tcp/` or `udp/` prefix (TCP is used either way). An MS-KKDCP `https://` proxy is not
 * supported: `undefined`, like any other text that is no address.
 *
 * @since 0.2.0
 * @category constructors
 */
export const parseAddress = (text: string): KdcAddress | undefined => {
  const trimmed = text.trim().replace(/^(tcp|udp)\//i, "")
  if (trimmed === "" || /[/\s]/.test(trimmed)) return undefined
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed)
  if (bracketed !== null) return withPort(bracketed[1]!, bracketed[2])
  if ((trimmed.match(/:/g) ?? []).length > 1) return withPort(trimmed, undefined)
  const [host, port] = trimmed.split(":")
  return host === undefined || host === "" ? undefined : withPort(host, port)
}

const withPort = (host: string, port: string | undefined): KdcAddress | undefined => {
  if (port === undefined) return { host, port: 88 }
  const n = Number(port)
  return Number.isInteger(n) && n > 0 && n < 65536 ? { host, port: n } : undefined
}

/**
 * A transport that hands each message to `answer` in memory: a test KDC, or a scripted reply.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMemory = (
  answer: (kdc: KdcAddress, message: Uint8Array) => Effect.Effect<Uint8Array, TransportError>
): Layer.Layer<KdcTransport> => Layer.succeed(KdcTransport, KdcTransport.of({ send: answer }))

/**
 * A transport that hands each message to a KDC in this process (any address), at the Clock's time:
 * `@vedauth/winauth/server`'s `Kdc.make(...)`, or anything that answers request bytes.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerKdc = (
  kdc: { readonly handle: (request: Uint8Array, now: number) => Uint8Array }
): Layer.Layer<KdcTransport> =>
  layerMemory((_, message) => Effect.map(Clock.currentTimeMillis, (now) => kdc.handle(message, now)))

/**
 * A transport where no KDC answers: every send fails with `TransportError`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerUnreachable: Layer.Layer<KdcTransport> = layerMemory((kdc) =>
  Effect.fail(new TransportError({ detail: `no KDC answered at ${kdc.host}:${kdc.port}` }))
)
