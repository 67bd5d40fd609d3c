/**
 * `KdcTransport` on `node:net`: one TCP connection per message, the RFC 4120 section 7.2.2 framing
 * (a 4-byte big-endian length, then the message), a whole-exchange timeout, a cap on the reply
 * size, and `_kerberos._tcp.REALM` SRV lookups through `node:dns`.
 *
 * @since 0.2.0
 */
import { KdcTransport } from "@vedauth/core/KdcTransport"
import type { KdcAddress } from "@vedauth/core/KdcTransport"
import { TransportError } from "@vedauth/core/VedAuthError"
import { Duration, Effect, Layer } from "effect"
import * as Dns from "node:dns/promises"
import * as Net from "node:net"
import * as framed from "./internal/lengthFramed.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** For connecting, sending and reading the whole reply. Default 10 seconds. */
  readonly timeout?: Duration.DurationInput
  /** Replies longer than this are refused (a ticket with a large PAC is a few tens of KiB). Default 1 MiB. */
  readonly maxReplyBytes?: number
}

const lookup = (realm: string) =>
  Effect.tryPromise({
    try: () => Dns.resolveSrv(`_kerberos._tcp.${realm}`),
    catch: (error) =>
      new TransportError({
        detail: `no SRV records for _kerberos._tcp.${realm}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`
      })
  }).pipe(
    Effect.map((records) =>
      [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight).map((r): KdcAddress => ({
        host: r.name,
        port: r.port
      }))
    )
  )

/**
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options = {}): KdcTransport["Type"] => {
  const timeout = Duration.decode(options.timeout ?? "10 seconds")
  const maxReplyBytes = options.maxReplyBytes ?? 1024 * 1024
  return KdcTransport.of({
    send: (kdc, message) =>
      framed.exchange({
        connect: () => Net.connect({ host: kdc.host, port: kdc.port }),
        peer: `KDC ${kdc.host}:${kdc.port}`,
        maxReplyBytes,
        extraReplyBytes: 0,
        timeout
      }, message),
    lookup
  })
}

/**
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<KdcTransport> => Layer.succeed(KdcTransport, make(options))
