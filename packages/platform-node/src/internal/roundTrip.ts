/** One HTTP/1.1 request and its response on a given agent, as an interruptible Effect. */
import { TransportError } from "@vedauth/core/VedAuthError"
import { Clock, Duration, Effect } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import type * as Net from "node:net"
import type * as Tls from "node:tls"

/** @internal */
export interface RoundTrip {
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
export interface RoundTripOptions {
  readonly url: URL
  /** `url` as `node:http` request options (host, port, path...), computed once per handshake. */
  readonly target: Http.RequestOptions
  readonly agent: Http.Agent
  readonly method: string
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array | undefined
  readonly connectTimeoutMs: number
  /** On Effect's clock (so TestClock moves it), from the request until the response's end. */
  readonly responseTimeout: Duration.Duration
  readonly onResponseTimeout: () => TransportError
  /** Clock millis by which the whole handshake must be done, when it is bounded; the earlier of the two timers fires. */
  readonly deadline?: { readonly at: number; readonly onPassed: () => TransportError } | undefined
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

// The clock of Effect's default services (the live one), asked for through the public API once;
// any other clock (a TestClock, a user's own) is driven through its own `sleep`. Its `sleep` is a
// plain `setTimeout`, and durations past the timers' limit never fire.
let liveClock: Clock.Clock | undefined
/** @internal */
export const isLive = (clock: Clock.Clock): boolean => clock === (liveClock ??= Effect.runSync(Effect.clock))
const MAX_TIMER_MILLIS = 2 ** 31 - 1

/**
 * Starts the response timeout and returns its canceller, without `Effect.timeoutFail` (a racing
 * pair of forked fibers per call, most of the Effect cost of a request). On the live clock this
 * is the very timer its `sleep` would set; on any other clock (a TestClock) the clock's own `sleep`
 * runs in a small fiber of its own, so that moving that clock still fires it. Nothing here depends
 * on Effect's internals: were the live clock not recognised, every timer would take the second,
 * slower but equally correct, path.
 */
const startTimer = (clock: Clock.Clock, duration: Duration.Duration, onTimeout: () => void): () => void => {
  if (isLive(clock)) {
    const millis = Duration.toMillis(duration)
    if (millis > MAX_TIMER_MILLIS) return () => {}
    const timer = setTimeout(onTimeout, millis)
    return () => clearTimeout(timer)
  }
  const sleeper = Effect.runFork(clock.sleep(duration))
  sleeper.addObserver((exit) => {
    if (exit._tag === "Success") onTimeout()
  })
  return () => sleeper.unsafeInterruptAsFork(sleeper.id())
}

/** @internal */
export const roundTrip = (options: RoundTripOptions): Effect.Effect<RoundTrip, TransportError | SocketRefused> =>
  Effect.clockWith((clock) =>
    Effect.async<RoundTrip, TransportError | SocketRefused>((resume) => {
      const url = options.url
      let settled = false
      let connectTimer: ReturnType<typeof setTimeout> | undefined
      // Reassigned below; the timer may fire at once (a TestClock already past the deadline).
      let stopResponseTimer = (): void => {}
      const settle = (result: Effect.Effect<RoundTrip, TransportError | SocketRefused>) => {
        if (settled) return
        settled = true
        clearTimeout(connectTimer)
        stopResponseTimer()
        resume(result)
      }
      const fail = (detail: string) =>
        settle(Effect.fail(new TransportError({ detail, url: url.origin + url.pathname })))
      const request = (url.protocol === "https:" ? Https : Http).request({
        ...options.target,
        method: options.method,
        headers: options.headers,
        agent: options.agent
      })
      // One timer: the response timeout, or what is left before the handshake's deadline if sooner.
      const left = options.deadline === undefined ? Infinity : options.deadline.at - clock.unsafeCurrentTimeMillis()
      const byDeadline = left < Duration.toMillis(options.responseTimeout)
      stopResponseTimer = startTimer(
        clock,
        byDeadline ? Duration.millis(Math.max(0, left)) : options.responseTimeout,
        () => {
          settle(Effect.fail(byDeadline ? options.deadline!.onPassed() : options.onResponseTimeout()))
          request.destroy()
        }
      )
      request.on("socket", (socket) => {
        options.onSocket?.(socket)
        const refused = options.checkSocket?.(socket, request.reusedSocket)
        if (refused !== undefined) {
          settle(Effect.fail(new SocketRefused(refused)))
          request.destroy()
          return
        }
        if (socket.connecting) {
          connectTimer = setTimeout(() => {
            request.destroy(new Error(`connection not established within ${options.connectTimeoutMs} ms`))
          }, options.connectTimeoutMs)
          socket.once(url.protocol === "https:" ? "secureConnect" : "connect", () => clearTimeout(connectTimer))
        }
      })
      request.on("error", (error) => fail(describe(error)))
      request.on("response", (response) => {
        clearTimeout(connectTimer)
        const socket = response.socket
        const tlsSocket = socket as Tls.TLSSocket
        const peerCertificate = typeof tlsSocket.getPeerCertificate === "function"
          ? new Uint8Array(tlsSocket.getPeerCertificate().raw ?? new Uint8Array(0))
          : undefined
        const chunks: Array<Buffer> = []
        let size = 0
        // Read every body to its end, 401s included: an unread body keeps the socket busy and the
        // next request of the handshake would go out on a new connection. Past the cap the rest is
        // read and dropped, for the same reason.
        response.on("data", (chunk: Buffer) => {
          size += chunk.length
          if (size <= options.maxBodyBytes) chunks.push(chunk)
        })
        response.on("error", (error) => fail(describe(error)))
        response.on("end", () => {
          if (size > options.maxBodyBytes) return fail(`the response body exceeds ${options.maxBodyBytes} bytes`)
          settle(Effect.succeed({
            status: response.statusCode ?? 0,
            reason: response.statusMessage ?? "",
            headers: response.headers,
            distinct: response.headersDistinct,
            body: new Uint8Array(Buffer.concat(chunks, size)),
            socket,
            peerCertificate
          }))
        })
      })
      // A view of the caller's bytes, not a copy.
      request.end(
        options.body === undefined
          ? undefined
          : Buffer.from(options.body.buffer, options.body.byteOffset, options.body.byteLength)
      )
      return Effect.sync(() => {
        settled = true
        clearTimeout(connectTimer)
        stopResponseTimer()
        request.destroy()
      })
    })
  )
