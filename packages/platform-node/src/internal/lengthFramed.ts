/**
 * One request and one reply over a stream socket, both behind a 4-byte big-endian length: the
 * framing of Kerberos over TCP (RFC 4120 section 7.2.2) and of KCM over its Unix socket (whose
 * reply has 4 bytes more than its length says: the transport's status). Bounded: a reply that
 * announces more than `maxReplyBytes`, or none whole within `timeout`, ends the exchange.
 * @internal
 */
import { TransportError } from "@vedauth/core/VedAuthError"
import { Duration, Effect } from "effect"
import type * as Net from "node:net"

/** @internal */
export interface Framing {
  /** Opens the connection (not yet connected). */
  readonly connect: () => Net.Socket
  /** Names the peer in errors: `KDC host:port`. */
  readonly peer: string
  readonly maxReplyBytes: number
  /** Bytes the reply carries past its announced length (KCM: 4). */
  readonly extraReplyBytes: number
  /** For connecting, sending and reading the whole reply. */
  readonly timeout: Duration.Duration
}

/** Sends `message` behind its length; the reply's bytes after its length. @internal */
export const exchange = (framing: Framing, message: Uint8Array) =>
  Effect.timeoutFail(unbounded(framing, message), {
    duration: framing.timeout,
    onTimeout: () =>
      new TransportError({ detail: `${framing.peer}: no reply within ${Duration.format(framing.timeout)}` })
  })

const unbounded = (framing: Framing, message: Uint8Array) =>
  Effect.async<Uint8Array, TransportError>((resume) => {
    // Deno throws here when a permission is missing (`--allow-net`): an error, not a defect.
    let socket: Net.Socket
    try {
      socket = framing.connect()
    } catch (error) {
      return resume(
        Effect.fail(
          new TransportError({ detail: `${framing.peer}: ${error instanceof Error ? error.message : String(error)}` })
        )
      )
    }
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
    const fail = (detail: string) => settle(Effect.fail(new TransportError({ detail: `${framing.peer}: ${detail}` })))
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
        expected = Buffer.concat(chunks).readUInt32BE(0) + framing.extraReplyBytes
        if (expected > framing.maxReplyBytes) {
          return fail(`the reply announces ${expected} bytes, over the ${framing.maxReplyBytes}-byte limit`)
        }
      }
      if (expected !== undefined && received >= 4 + expected) {
        settle(Effect.succeed(new Uint8Array(Buffer.concat(chunks).subarray(4, 4 + expected))))
      }
    })
    socket.on("error", (error: NodeJS.ErrnoException) => fail(error.code ?? error.message))
    socket.on("close", () => fail("the connection closed before a whole reply arrived"))
    return Effect.sync(() => socket.destroy())
  })
