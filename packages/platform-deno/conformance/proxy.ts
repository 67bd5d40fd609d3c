/**
 * A CONNECT proxy for the conformance suite, in the runtime under test (squid cannot be started
 * from `deno test` without --allow-run, and the suite must mean the same everywhere): `node:net` on
 * 127.0.0.1, tunnels to loopback only, optionally requiring Negotiate, whose tokens it checks with
 * core's Kerberos acceptor and the simulator's key for `HTTP/localhost` (an SPN needs a name, so the
 * proxy is `http://localhost:PORT`). It answers 407 without closing, as squid does, and records each
 * CONNECT: its target, and the user its token proved (`-` for none).
 */
import type { Kerberos } from "@vedauth/core"
import { Acceptor } from "@vedauth/winauth/server"
import { Effect, Redacted, type Scope } from "effect"
import * as Net from "node:net"

export interface Connect {
  readonly target: string
  readonly status: number
  readonly user: string
}

export interface TestProxy {
  readonly url: string
  readonly connects: ReadonlyArray<Connect>
}

const MAX_HEAD = 16 * 1024
const denied =
  "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\nContent-Length: 6\r\n\r\ndenied"

/** Who the CONNECT's `Proxy-Authorization: Negotiate` token proves, or undefined. */
const userOf = (acceptor: Acceptor.Acceptor, head: string): Promise<string | undefined> => {
  const token = /^proxy-authorization:[ \t]*negotiate[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/im.exec(head)?.[1]
  if (token === undefined) return Promise.resolve(undefined)
  try {
    return Promise.resolve(acceptor.accept(Uint8Array.from(Buffer.from(token, "base64")), { now: Date.now() }).client)
  } catch {
    return Promise.resolve(undefined)
  }
}

const tunnelTo = (client: Net.Socket, target: string, rest: Buffer) => {
  const colon = target.lastIndexOf(":")
  const upstream = Net.connect({ host: target.slice(0, colon), port: Number(target.slice(colon + 1)) }, () => {
    client.write("HTTP/1.1 200 Connection established\r\n\r\n")
    if (rest.length > 0) upstream.write(rest)
    client.pipe(upstream).pipe(client)
  })
  upstream.on("error", () => client.destroy())
  client.on("error", () => upstream.destroy())
  client.on("close", () => upstream.destroy())
}

const serve = (socket: Net.Socket, connects: Array<Connect>, acceptor: Acceptor.Acceptor | undefined) => {
  let received = Buffer.alloc(0)
  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk])
    const end = received.indexOf("\r\n\r\n")
    if (end < 0) return received.length > MAX_HEAD ? socket.destroy() : undefined
    const head = received.subarray(0, end).toString("latin1")
    const rest = received.subarray(end + 4)
    received = Buffer.alloc(0)
    const target = /^CONNECT ((?:127\.0\.0\.1|localhost):\d{1,5}) HTTP\/1\.1\r\n/.exec(head)?.[1]
    if (target === undefined) return socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
    socket.pause()
    void (acceptor === undefined ? Promise.resolve("-") : userOf(acceptor, head)).then((user) => {
      connects.push({ target, status: user === undefined ? 407 : 200, user: user ?? "-" })
      if (user === undefined) {
        socket.resume()
        return socket.write(denied)
      }
      socket.removeListener("data", onData)
      tunnelTo(socket, target, rest)
    })
  }
  socket.on("data", onData)
  socket.on("error", () => {})
}

/** Starts the proxy for the scope; with `negotiate`, CONNECTs need a Kerberos token for a key of that keytab. */
export const testProxy = (
  options: { readonly negotiate?: Kerberos.Keytab } = {}
): Effect.Effect<TestProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ readonly proxy: TestProxy; readonly server: Net.Server; readonly sockets: Set<Net.Socket> }>(
      (resume) => {
        const connects: Array<Connect> = []
        const sockets = new Set<Net.Socket>()
        const acceptor = options.negotiate === undefined
          ? undefined
          : Acceptor.make({ keys: Redacted.value(options.negotiate.keys) })
        const server = Net.createServer((socket) => {
          sockets.add(socket)
          serve(socket, connects, acceptor)
        })
        server.listen(0, "127.0.0.1", () => {
          const port = (server.address() as Net.AddressInfo).port
          resume(Effect.succeed({ proxy: { url: `http://localhost:${port}`, connects }, server, sockets }))
        })
      }
    ),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        server.close(() => resume(Effect.void))
        for (const socket of sockets) socket.destroy()
      })
  ).pipe(Effect.map(({ proxy }) => proxy))
