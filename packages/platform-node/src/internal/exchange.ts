/** One HTTP/1.1 request and its response on a given agent, as an interruptible Effect. */
import { Effect } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"
import type * as Tls from "node:tls"
import { TransportError } from "@vedauth/core/VedAuthError"

/** @internal */
export interface Exchange {
  readonly status: number
  readonly reason: string
  readonly headers: Http.IncomingHttpHeaders
  readonly distinct: NodeJS.Dict<Array<string>>
  readonly body: Uint8Array
  readonly socket: Net.Socket
  /** The server certificate (DER) when the connection is TLS. */
  readonly peerCertificate: Uint8Array | undefined
}

/** @internal */
export interface ExchangeOptions {
  readonly url: URL
  readonly agent: Http.Agent
  readonly method: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array | undefined
  readonly connectTimeoutMs: number
  readonly maxBodyBytes: number
  /** Called with the socket the request was given, before anything is written; a string aborts with that reason. */
  readonly checkSocket?: (socket: Net.Socket, reused: boolean) => string | undefined
  readonly onSocket?: (socket: Net.Socket) => void
}

/** @internal */
export class SocketRefused {
  constructor(readonly reason: string) {}
}

const describe = (error: unknown): string => {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === undefined ? error.message : `${error.message} (${code})`
  }
  return String(error)
}

/** @internal */
export const exchange = (options: ExchangeOptions): Effect.Effect<Exchange, TransportError | SocketRefused> =>
  Effect.async<Exchange, TransportError | SocketRefused>((resume) => {
    const url = options.url
    const fail = (detail: string) => resume(Effect.fail(new TransportError({ detail, url: url.origin + url.pathname })))
    let settled = false
    let connectTimer: ReturnType<typeof setTimeout> | undefined
    const request = (url.protocol === "https:" ? Https : Http).request(url, {
      method: options.method,
      headers: options.headers,
      agent: options.agent
    })
    request.on("socket", (socket) => {
      options.onSocket?.(socket)
      const refused = options.checkSocket?.(socket, request.reusedSocket)
      if (refused !== undefined) {
        settled = true
        request.destroy()
        resume(Effect.fail(new SocketRefused(refused)))
        return
      }
      if (socket.connecting) {
        connectTimer = setTimeout(() => {
          request.destroy(new Error(`connection not established within ${options.connectTimeoutMs} ms`))
        }, options.connectTimeoutMs)
        socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(connectTimer))
      }
    })
    request.on("error", (error) => {
      clearTimeout(connectTimer)
      if (settled) return
      settled = true
      fail(describe(error))
    })
    request.on("response", (response) => {
      clearTimeout(connectTimer)
      const socket = response.socket
      const tlsSocket = socket as Tls.TLSSocket
      const peerCertificate = typeof tlsSocket.getPeerCertificate === "function"
        ? new Uint8Array(tlsSocket.getPeerCertificate().raw ?? new Uint8Array(0))
        : undefined
      const chunks: Array<Buffer> = []
      let size = 0
      let overflow = false
      // Read every body to its end, 401s included: an unread body keeps the socket busy and the
      // next request of the handshake would go out on a new connection.
      response.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (size > options.maxBodyBytes) overflow = true
        else chunks.push(chunk)
      })
      response.on("error", (error) => {
        if (settled) return
        settled = true
        fail(describe(error))
      })
      response.on("end", () => {
        if (settled) return
        settled = true
        if (overflow) return fail(`the response body exceeds ${options.maxBodyBytes} bytes`)
        resume(Effect.succeed({
          status: response.statusCode ?? 0,
          reason: response.statusMessage ?? "",
          headers: response.headers,
          distinct: response.headersDistinct,
          body: new Uint8Array(Buffer.concat(chunks)),
          socket,
          peerCertificate
        }))
      })
    })
    request.end(options.body === undefined ? undefined : Buffer.from(options.body))
    return Effect.sync(() => {
      clearTimeout(connectTimer)
      settled = true
      request.destroy()
    })
  })
