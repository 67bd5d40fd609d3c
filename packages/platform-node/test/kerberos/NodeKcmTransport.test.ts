/**
 * NodeKcmTransport on a real Unix socket against scripted daemons: the KCM framing (the reply has
 * 4 bytes more than its length says) across chunks, and every way a daemon can misbehave ending in
 * a TransportError (the timeout on the TestClock).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, TestClock } from "effect"
import * as Fs from "node:fs"
import type * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import * as NodeKcmTransport from "../../src/NodeKcmTransport.js"
import { framedPeer } from "./framedPeer.js"

/** A daemon on a socket in a temp folder that answers each whole request with `behave`; gone with the scope. */
const daemon = (behave: (socket: Net.Socket, request: Buffer) => void) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-kcm-test-"))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    )
    const path = Path.join(dir, "kcm.socket")
    yield* framedPeer((server, ready) => server.listen(path, ready), behave)
    return { path, dir }
  })

describe("NodeKcmTransport", () => {
  it.scoped("sends one framed request; the reply (status, then the operation's status and data) reassembled from pieces", () =>
    Effect.gen(function*() {
      const { path } = yield* daemon((socket, request) => {
        const data = Buffer.concat([Buffer.alloc(4), request])
        const reply = Buffer.concat([Buffer.from([0, 0, 0, data.length]), Buffer.alloc(4), data])
        socket.write(reply.subarray(0, 6))
        setImmediate(() => socket.end(reply.subarray(6)))
      })
      const reply = yield* NodeKcmTransport.make().request(path, Uint8Array.of(2, 0, 0, 20))
      assert.deepStrictEqual([...reply], [0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 20])
    }))

  it.scoped("a daemon that closes early (as sssd-kcm does for an opcode it does not know), an oversized reply and no socket are TransportErrors", () =>
    Effect.gen(function*() {
      const closing = yield* daemon((socket) => socket.end())
      const huge = yield* daemon((socket) => socket.write(Buffer.from([0x7f, 0xff, 0xff, 0xff])))
      const transport = NodeKcmTransport.make({ maxReplyBytes: 65536 })
      const early = yield* Effect.flip(transport.request(closing.path, Uint8Array.of(2, 0, 0, 99)))
      assert.include(early.detail, "closed before a whole reply")
      const oversized = yield* Effect.flip(transport.request(huge.path, Uint8Array.of(1)))
      assert.include(oversized.detail, "over the 65536-byte limit")
      const missing = yield* Effect.flip(transport.request(`${closing.dir}/none.socket`, Uint8Array.of(1)))
      assert.include(missing.detail, "ENOENT")
    }))

  it.scoped("a daemon that never answers times out (on the TestClock) with a TransportError", () =>
    Effect.gen(function*() {
      const { path } = yield* daemon(() => {})
      const fiber = yield* Effect.fork(NodeKcmTransport.make({ timeout: "2 seconds" }).request(path, Uint8Array.of(1)))
      yield* TestClock.adjust("2 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.include(error.detail, "no reply within 2s")
    }))
})
