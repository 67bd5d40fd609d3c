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

/** How a proxy's 407 is answered with Kerberos: a `Negotiate` token for `HTTP/<proxy host>`. @internal */
export interface ProxyNegotiate {
  /** True once `proxy` has asked for Negotiate: later tunnels send a token with their first CONNECT. */
  readonly wanted: (proxy: Proxy) => boolean
  /**
   * `Proxy-Authorization: Negotiate <base64>` with a fresh AP-REQ (a proxy's replay cache refuses a
   * token sent twice), and whose ticket it is; rejects with a `ProxyRefused` saying why there is none.
   * `signal` ends the work (KDC round trips) when the tunnel's time is up.
   */
  readonly authorization: (
    proxy: Proxy,
    signal: AbortSignal
  ) => Promise<{ readonly header: Redacted.Redacted<string>; readonly client: string; readonly spn: string }>
}

/** The credentials a CONNECT carried, for the message of a 407. */
type Sent = { readonly _tag: "None" } | { readonly _tag: "Basic" } | {
  readonly _tag: "Negotiate"
  readonly client: string
  readonly spn: string
}

const offers = (head: string): ReadonlyArray<string> =>
  [...head.matchAll(/^proxy-authenticate:[ \t]*([A-Za-z0-9_-]+)/gim)].map((m) => printable(m[1]!, 20)).slice(0, 4)

const authRefusal = (proxy: Proxy, head: string, why: string): ProxyRefused => {
  const offered = offers(head)
  const schemes = offered.length === 0 ? "" : ` (it offers ${offered.join(", ")})`
  return new ProxyRefused(`proxy authentication required by the proxy ${proxy.shown}${schemes}${why}`, 407)
}

const refusal = (proxy: Proxy, target: string, answer: Answer, sent: Sent): ProxyRefused => {
  if (answer.status !== 407) {
    return new ProxyRefused(
      `the proxy ${proxy.shown} refused the tunnel to ${target}: ${answer.status} ${printable(answer.reason)}`,
      answer.status
    )
  }
  const why = sent._tag === "Basic"
    ? ": the proxy refused the user and password of the proxy URL"
    : sent._tag === "Negotiate"
    ? `: the proxy refused the Kerberos ticket of ${printable(sent.client)} for ${printable(sent.spn)}`
    : "; give the user and password in HTTPS_PROXY or VEDAUTH_PROXY (http://user:password@host:port), or Kerberos settings for Negotiate"
  return authRefusal(proxy, answer.head, why)
}

/** A proxy's answer to one CONNECT: its head, and whether the connection can carry another CONNECT. */
interface Answer {
  readonly status: number
  readonly reason: string
  readonly head: string
  /** A refusal whose body was read whole (its length given and small), on a connection kept open. */
  readonly reusable: boolean
}

/** The most of a refusal's body read to keep its connection for a second CONNECT (squid's pages are ~3 KiB). */
const MAX_REFUSAL_BODY = 64 * 1024

const reusableLength = (head: string): number | undefined => {
  if (!head.startsWith("HTTP/1.1") || /^(proxy-)?connection:[^\r\n]*\bclose\b/im.test(head)) return undefined
  const length = /^content-length:[ \t]*(\d{1,9})[ \t]*$/im.exec(head)
  const bytes = length === null ? undefined : Number(length[1])
  return bytes !== undefined && bytes <= MAX_REFUSAL_BODY ? bytes : undefined
}

/** Sends one CONNECT on `socket` and reads the answer (a refusal's body too, when it can be). */
const ask = (socket: Net.Socket, proxy: Proxy, target: string, authorization: Redacted.Redacted<string> | undefined) =>
  new Promise<Answer>((resolve, reject) => {
    if (socket.destroyed) {
      return reject(new ProxyRefused(`the connection to the proxy ${proxy.shown} closed`, undefined))
    }
    let received = Buffer.alloc(0)
    let answer: Answer | undefined
    let bodyEnd = 0
    const settle = (outcome: Answer | ProxyRefused) => {
      socket.removeListener("data", onData)
      socket.removeListener("close", onClose)
      if (outcome instanceof ProxyRefused) reject(outcome)
      else resolve(outcome)
    }
    const onClose = () =>
      settle(
        new ProxyRefused(
          `the proxy ${proxy.shown} closed the connection before opening the tunnel to ${target}`,
          undefined
        )
      )
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (answer !== undefined) return received.length >= bodyEnd ? settle(answer) : undefined
      const end = received.indexOf("\r\n\r\n")
      if (end < 0) {
        if (received.length > MAX_ANSWER_BYTES) {
          settle(
            new ProxyRefused(
              `the proxy ${proxy.shown} answered CONNECT with more than ${MAX_ANSWER_BYTES} bytes of headers`,
              undefined
            )
          )
        }
        return
      }
      const head = received.subarray(0, end).toString("latin1")
      const status = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?/.exec(head)
      if (status === null) {
        return settle(new ProxyRefused(`the proxy ${proxy.shown} did not answer CONNECT with HTTP`, undefined))
      }
      const code = Number(status[1])
      if (code >= 200 && code <= 299) {
        // TLS and HTTP both have the client speak first: bytes past the answer would be the proxy's
        // own, and could not be handed to TLS, which takes the socket's handle over.
        if (received.length > end + 4) {
          return settle(
            new ProxyRefused(`the proxy ${proxy.shown} sent data into the tunnel before it was used`, undefined)
          )
        }
        return settle({ status: code, reason: status[2] ?? "", head, reusable: false })
      }
      const length = code === 407 ? reusableLength(head) : undefined
      answer = { status: code, reason: status[2] ?? "", head, reusable: length !== undefined }
      bodyEnd = end + 4 + (length ?? 0)
      if (length === undefined || received.length >= bodyEnd) settle(answer)
    }
    socket.on("data", onData)
    socket.once("close", onClose)
    const auth = authorization === undefined ? "" : `Proxy-Authorization: ${Redacted.value(authorization)}\r\n`
    socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n${auth}\r\n`)
  })

const connect = (proxy: Proxy, track: (socket: Net.Socket) => void) =>
  new Promise<Net.Socket>((resolve, reject) => {
    const socket = Net.connect({ host: proxy.host, port: proxy.port })
    track(socket)
    const onError = (error: Error) =>
      reject(new ProxyRefused(`cannot reach the proxy ${proxy.shown}: ${printable(error.message)}`, undefined))
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.removeListener("error", onError)
      resolve(socket)
    })
  })

/**
 * Opens a tunnel to `host:port` through `proxy`; calls back once, with the raw socket (nothing read
 * past the proxy's answer) or a `ProxyRefused`. `timeoutMs` bounds the whole setup together (TCP
 * connect, answers, a Kerberos ticket for the proxy). A 407 offering Negotiate, when `negotiate` is
 * given and no credentials went with the CONNECT, is answered once: the CONNECT again, with a
 * Kerberos token, on the same connection when the proxy kept it open (squid does), else on a new
 * one. A second 407 is the error: there is no retry loop.
 * @internal
 */
export const openTunnel = (
  proxy: Proxy,
  host: string,
  port: number,
  timeoutMs: number,
  callback: (error: Error | null, socket?: Net.Socket) => void,
  negotiate?: ProxyNegotiate
): void => {
  const target = authority(host, port)
  let socket: Net.Socket | undefined
  let done = false
  const abort = new AbortController()
  // One timer for the whole setup (not the socket's idle timeout, which a proxy sending a byte at a
  // time would keep resetting).
  const timer = setTimeout(
    () => finish(new ProxyRefused(`no tunnel through the proxy ${proxy.shown} within ${timeoutMs} ms`, undefined)),
    timeoutMs
  )
  const finish = (error: Error | null) => {
    if (done) return
    done = true
    clearTimeout(timer)
    if (error !== null) {
      abort.abort()
      socket?.destroy()
      return callback(error)
    }
    callback(null, socket)
  }
  const track = (opened: Net.Socket) => {
    socket = opened
    // An error during the setup closes the socket, which `connect` or `ask` reports; after it, the
    // agent's own listeners see them.
    opened.on("error", () => {})
    if (done) opened.destroy()
  }
  const negotiateToken = async (): Promise<{ readonly header: Redacted.Redacted<string>; readonly sent: Sent }> => {
    const token = await negotiate!.authorization(proxy, abort.signal)
    return { header: token.header, sent: { _tag: "Negotiate", client: token.client, spn: token.spn } }
  }
  const run = async (): Promise<void> => {
    let sent: Sent = { _tag: "None" }
    let header = proxy.authorization
    if (header !== undefined) sent = { _tag: "Basic" }
    else if (negotiate?.wanted(proxy) === true) ({ header, sent } = await negotiateToken())
    let answer = await ask(await connect(proxy, track), proxy, target, header)
    if (
      answer.status === 407 && sent._tag === "None" && negotiate !== undefined &&
      offers(answer.head).some((s) => s.toLowerCase() === "negotiate")
    ) {
      ;({ header, sent } = await negotiateToken())
      if (!answer.reusable) socket?.destroy()
      answer = await ask(
        answer.reusable && socket !== undefined ? socket : await connect(proxy, track),
        proxy,
        target,
        header
      )
    }
    if (answer.status < 200 || answer.status > 299) throw refusal(proxy, target, answer, sent)
  }
  run().then(
    () => finish(null),
    (error: unknown) =>
      finish(
        error instanceof ProxyRefused
          ? error
          : new ProxyRefused(`no tunnel through the proxy ${proxy.shown}`, undefined)
      )
  )
}

type CreateConnection = (
  options: Record<string, unknown>,
  callback: (error: Error | null, socket?: Net.Socket) => void
) => Net.Socket | undefined

/**
 * Makes `agent` open each connection through the proxy its routes give for its target (directly
 * otherwise, with its own `createConnection`). Node's agents accept a `createConnection` that
 * answers through its callback; the socket handed over is TLS to TPP when `secure`.
 * @internal
 */
export const routeAgent = <A extends Http.Agent>(
  agent: A,
  routes: Routes,
  secure: boolean,
  timeoutMs: number,
  negotiate?: ProxyNegotiate
): A => {
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
    }, negotiate)
    return undefined
  }
  return agent
}
