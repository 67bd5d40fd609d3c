/**
 * `KdcTransport` on `node:net`: one TCP connection per message, the RFC 4120 section 7.2.2 framing
 * (a 4-byte big-endian length, then the message), a whole-exchange timeout, a cap on the reply
 * size, and `_kerberos._tcp.REALM` SRV lookups through `node:dns`.
 *
 * @since 0.2.0
 */
import { Duration, Effect, Layer } from "effect"
import * as Dns from "node:dns/promises"
import * as Net from "node:net"
import { KdcTransport } from "@vedauth/core/KdcTransport"
import type { KdcAddress } from "@vedauth/core/KdcTransport"
import { TransportError } from "@vedauth/core/VedAuthError"

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

const exchange = (kdc: KdcAddress, message: Uint8Array, maxReplyBytes: number) =>
  Effect.async<Uint8Array, TransportError>((resume) => {
    const where = `${kdc.host}:${kdc.port}`
    const socket = Net.connect({ host: kdc.host, port: kdc.port })
    const chunks: Array<Buffer> = []
    let received = 0
    let expected: number | undefined
    let settled = false
    // A destroyed socket still emits "close": only the first outcome counts.
    const settle = (outcome: Effect.Effect<Uint8Array, TransportError>) => {
      if (settled) return
      settled = true
      socket.destroy()
      resume(outcome)
    }
    const fail = (detail: string) => settle(Effect.fail(new TransportError({ detail: `KDC ${where}: ${detail}` })))
    socket.on("connect", () => {
      const frame = Buffer.alloc(4 + message.length)
      frame.writeUInt32BE(message.length, 0)
      frame.set(message, 4)
      socket.write(frame)
    })
    socket.on("data", (chunk: Buffer) => {
      chunks.push(chunk)
      received += chunk.length
      if (expected === undefined && received >= 4) {
        const head = Buffer.concat(chunks)
        expected = head.readUInt32BE(0)
        if (expected > maxReplyBytes) return fail(`the reply announces ${expected} bytes, over the ${maxReplyBytes}-byte limit`)
      }
      if (expected !== undefined && received >= 4 + expected) {
        settle(Effect.succeed(new Uint8Array(Buffer.concat(chunks).subarray(4, 4 + expected))))
      }
    })
    socket.on("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message))
    socket.on("close", () => fail("the connection closed before a whole reply arrived"))
    return Effect.sync(() => socket.destroy())
  })

const lookup = (realm: string) =>
  Effect.tryPromise({
    try: () => Dns.resolveSrv(`_kerberos._tcp.${realm}`),
    catch: (error) => new TransportError({ detail: `no SRV records for _kerberos._tcp.${realm}: ${(error as NodeJS.ErrnoException).code ?? String(error)}` })
  }).pipe(
    Effect.map((records) =>
      [...records].sort((a, b) => a.priority - b.priority || b.weight - a.weight).map((r): KdcAddress => ({ host: r.name, port: r.port }))
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
      exchange(kdc, message, maxReplyBytes).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new TransportError({ detail: `KDC ${kdc.host}:${kdc.port}: no reply within ${Duration.format(timeout)}` })
        })
      ),
    lookup
  })
}

/**
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<KdcTransport> => Layer.succeed(KdcTransport, make(options))
