/**
 * NodeKdcTransport on real loopback sockets against scripted TCP peers: framing across chunks, and
 * every way a KDC can misbehave ending in a TransportError (the timeout on the TestClock).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as Net from "node:net"
import * as NodeKdcTransport from "../../src/NodeKdcTransport.js"
import { framedPeer } from "./framedPeer.js"

/** A TCP peer on 127.0.0.1 that answers each connection with `behave`, closed with the scope. */
const peer = (behave: (socket: Net.Socket, request: Buffer) => void) =>
  Effect.map(
    framedPeer((server, ready) => server.listen(0, "127.0.0.1", ready), behave),
    (server) => ({ server, port: (server.address() as Net.AddressInfo).port })
  )

/** RFC 4120 section 7.2.2 framing: a 4-byte big-endian length, then the message. */
const framed = (body: Buffer) => {
  const out = Buffer.alloc(4 + body.length)
  out.writeUInt32BE(body.length, 0)
  body.copy(out, 4)
  return out
}

describe("NodeKdcTransport", () => {
  it.scoped("sends one framed message and reassembles a reply that arrives in pieces", () =>
    Effect.gen(function*() {
      const { port } = yield* peer((socket, request) => {
        const reply = framed(Buffer.concat([Buffer.from("echo:"), request]))
        socket.write(reply.subarray(0, 3))
        setImmediate(() => socket.end(reply.subarray(3)))
      })
      const reply = yield* NodeKdcTransport.make().send({ host: "127.0.0.1", port }, new TextEncoder().encode("AS-REQ"))
      assert.strictEqual(new TextDecoder().decode(reply), "echo:AS-REQ")
    }))

  it.scoped("a peer that closes early, one announcing an oversized reply, and a refused port are TransportErrors", () =>
    Effect.gen(function*() {
      const closing = yield* peer((socket) => socket.end(Buffer.from([0, 0, 0, 9, 1, 2])))
      const huge = yield* peer((socket) => socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])))
      const transport = NodeKdcTransport.make({ maxReplyBytes: 65536 })
      const early = yield* Effect.flip(transport.send({ host: "127.0.0.1", port: closing.port }, Uint8Array.of(1)))
      assert.include(early.detail, "closed before a whole reply")
      const oversized = yield* Effect.flip(transport.send({ host: "127.0.0.1", port: huge.port }, Uint8Array.of(1)))
      assert.include(oversized.detail, "over the 65536-byte limit")
      const refused = yield* Effect.flip(transport.send({ host: "127.0.0.1", port: 1 }, Uint8Array.of(1)))
      assert.include(refused.detail, "ECONNREFUSED")
    }))

  it.scoped("a KDC that never answers times out (on the TestClock) with a TransportError", () =>
    Effect.gen(function*() {
      const { port } = yield* peer(() => {})
      const fiber = yield* Effect.fork(
        NodeKdcTransport.make({ timeout: "3 seconds" }).send({ host: "127.0.0.1", port }, Uint8Array.of(1))
      )
      yield* TestClock.adjust("3 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.include(error.detail, "no reply within 3s")
    }))
})
