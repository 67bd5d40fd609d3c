/**
 * The simulator's KDC on a loopback TCP port (RFC 4120 section 7.2.2: a 4-byte big-endian length,
 * then the message; one request per connection), so that `kinit`, `curl --negotiate` and the
 * platform `KdcTransport`s reach the same KDC the in-memory tests use.
 */
import type { Kdc } from "@vedauth/winauth/server"
import { Clock, Effect, Runtime } from "effect"
import * as Net from "node:net"

// A KDC request is a few hundred bytes; anything past this is not one.
const maxRequestBytes = 64 * 1024

/** @internal */
export const listenKdc = (kdc: Kdc.Kdc, host: string) =>
  Effect.gen(function*() {
    const run = Runtime.runPromise(yield* Effect.runtime<never>())
    const server = Net.createServer((socket) => {
      let buffered = Buffer.alloc(0)
      socket.setTimeout(10_000, () => socket.destroy())
      socket.on("error", () => socket.destroy())
      socket.on("data", (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk])
        if (buffered.length < 4) return
        const length = buffered.readUInt32BE(0)
        if (length > maxRequestBytes) return void socket.destroy()
        if (buffered.length < 4 + length) return
        const request = new Uint8Array(buffered.subarray(4, 4 + length))
        socket.pause()
        void run(Effect.map(Clock.currentTimeMillis, (now) => kdc.handle(request, now))).then((reply) => {
          const prefix = Buffer.alloc(4)
          prefix.writeUInt32BE(reply.length, 0)
          socket.end(Buffer.concat([prefix, reply]))
        }, () => socket.destroy())
      })
    })
    yield* Effect.acquireRelease(
      Effect.async<void, Error>((resume) => {
        server.once("error", (error) => resume(Effect.fail(error)))
        server.listen(0, host, () => resume(Effect.void))
      }),
      () => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    )
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    return `${host.includes(":") ? `[${host}]` : host}:${port}`
  })
