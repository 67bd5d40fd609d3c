/**
 * CONNECT tunnels through an HTTP proxy, and agents whose connections to TPP go through them.
 *
 * An agent's `createConnection` opens the tunnel (TCP to the proxy, `CONNECT host:port`, the proxy's
 * answer read with a bound on size and time), then speaks TLS to TPP inside it, so certificate checks
 * and channel bindings concern TPP's certificate, never the proxy's. Every request of an agent built
 * for one handshake therefore shares one tunnel: NTLM's messages and Kerberos' AP-REQ travel on it.
 * Plain `http://` TPP goes through a CONNECT tunnel too (not absolute-form requests), so that NTLM,
 * which authenticates a connection, keeps one from end to end.
 * @internal
 */
import { Redacted } from "effect"
import type * as Http from "node:http"
import * as Net from "node:net"
import * as Tls from "node:tls"
import { type Proxy, proxyFor, type Routes } from "./proxy.js"

/** The most of a proxy's answer to CONNECT read (status line and headers). @internal */
export const MAX_ANSWER_BYTES = 16 * 1024

/** A tunnel the proxy would not open; its message names the proxy's host and port only. @internal */
export class ProxyRefused extends Error {
  constructor(message: string, readonly status: number | undefined) {
    super(message)
    this.name = "ProxyRefused"
  }
}

// What a proxy says may be anything: printable ASCII, short.
const printable = (text: string, max = 80): string => text.replace(/[^\x20-\x7e]/g, "?").slice(0, max)

const authority = (host: string, port: number): string => `${Net.isIPv6(host) ? `[${host}]` : host}:${port}`

const refusal = (proxy: Proxy, target: string, status: number, reason: string, head: string): ProxyRefused => {
  if (status !== 407) {
    return new ProxyRefused(`the proxy ${proxy.shown} refused the tunnel to ${target}: ${status} ${printable(reason)}`, status)
  }
  const offered = [...head.matchAll(/^proxy-authenticate:[ \t]*([A-Za-z0-9_-]+)/gim)].map((m) => printable(m[1]!, 20)).slice(0, 4)
  const schemes = offered.length === 0 ? "" : ` (it offers ${offered.join(", ")})`
  const why = proxy.authorization === undefined
    ? "; give the user and password in HTTPS_PROXY or VEDAUTH_PROXY (http://user:password@host:port)"
    : ": the proxy refused the user and password of the proxy URL"
  return new ProxyRefused(`proxy authentication required by the proxy ${proxy.shown}${schemes}${why}`, 407)
}

/**
 * Opens a tunnel to `host:port` through `proxy`; calls back once, with the raw socket (nothing read
 * past the proxy's answer) or a `ProxyRefused`. `timeoutMs` bounds the TCP connect and the whole
 * answer together.
 * @internal
 */
export const openTunnel = (
  proxy: Proxy,
  host: string,
  port: number,
  timeoutMs: number,
  callback: (error: Error | null, socket?: Net.Socket) => void
): Net.Socket => {
  const target = authority(host, port)
  const socket = Net.connect({ host: proxy.host, port: proxy.port })
  let done = false
  // One timer for the whole setup (not the socket's idle timeout, which a proxy sending a byte at a
  // time would keep resetting).
  const timer = setTimeout(() => finish(new ProxyRefused(`no tunnel through the proxy ${proxy.shown} within ${timeoutMs} ms`, undefined)), timeoutMs)
  const finish = (error: Error | null) => {
    if (done) return
    done = true
    clearTimeout(timer)
    socket.removeListener("data", onData)
    if (error !== null) {
      socket.destroy()
      return callback(error)
    }
    callback(null, socket)
  }
  socket.once("error", (error) => finish(new ProxyRefused(`cannot reach the proxy ${proxy.shown}: ${printable(error.message)}`, undefined)))
  socket.once("close", () => finish(new ProxyRefused(`the proxy ${proxy.shown} closed the connection before opening the tunnel to ${target}`, undefined)))
  let received = Buffer.alloc(0)
  const onData = (chunk: Buffer) => {
    received = Buffer.concat([received, chunk])
    const end = received.indexOf("\r\n\r\n")
    if (end < 0) {
      if (received.length > MAX_ANSWER_BYTES) finish(new ProxyRefused(`the proxy ${proxy.shown} answered CONNECT with more than ${MAX_ANSWER_BYTES} bytes of headers`, undefined))
      return
    }
    const head = received.subarray(0, end).toString("latin1")
    const status = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?/.exec(head)
    if (status === null) return finish(new ProxyRefused(`the proxy ${proxy.shown} did not answer CONNECT with HTTP`, undefined))
    const code = Number(status[1])
    if (code < 200 || code > 299) return finish(refusal(proxy, target, code, status[2] ?? "", head))
    // TLS and HTTP both have the client speak first: bytes past the answer would be the proxy's own,
    // and could not be handed to TLS, which takes the socket's handle over.
    if (received.length > end + 4) return finish(new ProxyRefused(`the proxy ${proxy.shown} sent data into the tunnel before it was used`, undefined))
    finish(null)
  }
  socket.on("data", onData)
  socket.once("connect", () => {
    const auth = proxy.authorization === undefined ? "" : `Proxy-Authorization: ${Redacted.value(proxy.authorization)}\r\n`
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`)
  })
  return socket
}

type CreateConnection = (options: Record<string, unknown>, callback: (error: Error | null, socket?: Net.Socket) => void) => Net.Socket | undefined

/**
 * Makes `agent` open each connection through the proxy its routes give for its target (directly
 * otherwise, with its own `createConnection`). Node's agents accept a `createConnection` that
 * answers through its callback; the socket handed over is TLS to TPP when `secure`.
 * @internal
 */
export const routeAgent = <A extends Http.Agent>(agent: A, routes: Routes, secure: boolean, timeoutMs: number): A => {
  const self = agent as unknown as { createConnection: CreateConnection }
  const direct = self.createConnection.bind(agent)
  self.createConnection = (options, callback) => {
    const host = String(options["host"] ?? "localhost").replace(/^\[|\]$/g, "")
    const port = Number(options["port"] ?? (secure ? 443 : 80))
    const proxy = proxyFor(routes, secure ? "https:" : "http:", host, port)
    if (proxy === undefined) return direct(options, callback)
    openTunnel(proxy, host, port, timeoutMs, (error, socket) => {
      if (error !== null || socket === undefined) return callback(error ?? new Error("no tunnel"))
      if (!secure) return callback(null, socket)
      // The agent's TLS options (secure context, SNI) with the tunnel as the transport.
      const { host: _host, port: _port, path: _path, ...tls } = options
      callback(null, Tls.connect({ ...tls, host, socket } as Tls.ConnectionOptions))
    })
    return undefined
  }
  return agent
}
