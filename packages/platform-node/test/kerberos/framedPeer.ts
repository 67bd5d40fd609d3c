/** A scripted peer for the length-framed transports' tests (KDC over TCP, KCM over a Unix socket). */
import { Effect } from "effect"
import type * as Net from "node:net"
import * as NodeNet from "node:net"

/**
 * A server that hands each whole request (after its 4-byte length) to `behave`, listening where
 * `listen` says; closed with the scope.
 */
export const framedPeer = (
  listen: (server: Net.Server, ready: () => void) => void,
  behave: (socket: Net.Socket, request: Buffer) => void
) =>
  Effect.acquireRelease(
    Effect.async<Net.Server>((resume) => {
      const server = NodeNet.createServer((socket) => {
        let received = Buffer.alloc(0)
        socket.on("data", (chunk) => {
          received = Buffer.concat([received, chunk])
          if (received.length >= 4 && received.length >= 4 + received.readUInt32BE(0)) {
            behave(socket, received.subarray(4))
          }
        })
        socket.on("error", () => {})
      })
      listen(server, () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )
