/**
 * The simulator on real sockets: node:http or node:https on loopback. Connection state is kept per
 * socket, because NTLM authenticates the connection.
 */
import { Duration, Effect, Runtime } from "effect"
import * as Fs from "node:fs/promises"
import * as Http from "node:http"
import * as Https from "node:https"
import type { Socket } from "node:net"
import { TLSSocket } from "node:tls"
import type { Served, ServeOptions } from "../Simulator.js"
import { generate } from "./certificate.js"
import type { ClientCertificateInfo, Connection } from "./context.js"
import type { SimResponse } from "./http.js"
import { listenKdc } from "./kdcServer.js"
import type { Service } from "./simulator.js"

// Node checks the header and request timeouts only every `connectionsCheckingInterval` (30 s by
// default): check often enough that a slow-sending flood is cut off near the timeout, not long after.
const timeouts = (options: ServeOptions) => {
  const millis = (input: Duration.DurationInput | undefined, fallback: Duration.Duration) =>
    Duration.toMillis(input === undefined ? fallback : Duration.decode(input))
  const headersTimeout = millis(options.headersTimeout, Duration.seconds(10))
  const requestTimeout = Math.max(millis(options.requestTimeout, Duration.seconds(30)), headersTimeout)
  return {
    headersTimeout,
    requestTimeout,
    keepAliveTimeout: millis(options.keepAliveTimeout, Duration.seconds(5)),
    connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(headersTimeout / 4))),
    // A TLS handshake that never completes is a half-sent request too.
    handshakeTimeout: headersTimeout
  }
}

/** @internal */
export class ServeFailure {
  constructor(readonly detail: string) {}
}

const write = (res: Http.ServerResponse, response: SimResponse) => {
  const headers: Record<string, string | Array<string>> = {}
  for (const [name, value] of Object.entries(response.headers)) {
    headers[name] = typeof value === "string"
      ? value
      : [...value]
  }
  headers["content-length"] = String(response.body.length)
  if (response.connection === "close") {
    headers["connection"] = "close"
    res.shouldKeepAlive = false
  }
  res.writeHead(response.status, response.reason, headers)
  if (response.connection === "truncate") {
    res.write(response.body.subarray(0, Math.floor(response.body.length / 2)), () => res.socket?.destroy())
    return
  }
  res.end(response.body)
}

// Mutual TLS: ask for a client certificate, but let the handshake finish without one (the
// certificate grant answers that itself, as TPP does); only a verified one is used.
const clientAuth = (clientCa: string | ReadonlyArray<string> | undefined) =>
  clientCa === undefined
    ? {}
    : { requestCert: true, rejectUnauthorized: false, ca: typeof clientCa === "string" ? [clientCa] : [...clientCa] }

const presentedCertificate = (socket: Socket): ClientCertificateInfo | undefined => {
  if (!(socket instanceof TLSSocket) || !socket.authorized) return undefined
  const peer = socket.getPeerCertificate()
  if (peer === null || Object.keys(peer).length === 0) return undefined
  const commonName = typeof peer.subject?.CN === "string" ? peer.subject.CN : undefined
  const altNames = (peer.subjectaltname ?? "").split(",").map((entry) => entry.trim().replace(/^[A-Za-z ]+:/, ""))
    .filter((name) => name !== "")
  return { commonName, altNames }
}

/** @internal */
export const serve = (simulator: Service, options: ServeOptions = {}) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const run = Runtime.runPromise(runtime)
    const host = options.host ?? "127.0.0.1"
    const protocol = options.protocol ?? "https"
    // TLS peers check the certificate against the real wall clock, not Effect's: a simulator
    // running under TestClock (at 1970) must still present a certificate valid today.
    const now = Date.now()
    const certificate = protocol === "https"
      ? yield* Effect.tryPromise({
        try: () => generate([host, "127.0.0.1", "::1", "localhost"], now),
        catch: (error) => new ServeFailure(`could not generate the certificate: ${String(error)}`)
      })
      : undefined
    if (certificate !== undefined && options.caPemPath !== undefined) {
      const path = options.caPemPath
      yield* Effect.tryPromise({
        try: () => Fs.writeFile(path, certificate.caPem, { mode: 0o644 }),
        catch: (error) => new ServeFailure(`could not write the CA PEM: ${String(error)}`)
      })
    }
    const connections = new WeakMap<Socket, Connection>()
    // Channel bindings hash the certificate the server presents: the leaf, not the CA.
    const tls = certificate === undefined ? undefined : { certificateDer: certificate.der }
    const maxBody = simulator.config.maxBodyBytes

    const onRequest = (req: Http.IncomingMessage, res: Http.ServerResponse) => {
      const socket = req.socket
      const chunks: Array<Buffer> = []
      let size = 0
      let overflow = false
      req.on("data", (chunk: Buffer) => {
        size += chunk.length
        if (overflow) return
        if (size <= maxBody) {
          chunks.push(chunk)
          return
        }
        // Answer at once and close: reading the rest of an oversized body would be the attack.
        overflow = true
        chunks.length = 0
        res.on("finish", () => socket.destroy())
        write(res, {
          status: 413,
          reason: "Request Entity Too Large",
          headers: { "content-type": "text/plain" },
          body: new TextEncoder().encode("Request body too large"),
          connection: "close"
        })
      })
      req.on("error", () => socket.destroy())
      req.on("end", () => {
        if (overflow) return
        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value
        }
        const program = Effect.gen(function*() {
          let connection = connections.get(socket)
          if (connection === undefined) {
            const clientCertificate = presentedCertificate(socket)
            connection = yield* simulator.connect(
              tls === undefined ? {} : { tls: clientCertificate === undefined ? tls : { ...tls, clientCertificate } }
            )
            connections.set(socket, connection)
          }
          return yield* simulator.handle(connection, {
            method: req.method ?? "GET",
            path: req.url ?? "/",
            headers,
            body: Buffer.concat(chunks)
          })
        })
        run(program)
          .then((response) => {
            if (response.connection === "drop") socket.destroy()
            else write(res, response)
          })
          // A failed program, or a response Node refuses to write (writeHead throws on a status
          // outside 100-999 or a header with control characters): close this socket rather than
          // leave an unhandled rejection that would take the whole process down.
          .catch(() => socket.destroy())
      })
    }

    const limits = timeouts(options)
    const server = certificate === undefined
      ? Http.createServer({ keepAlive: true, ...limits }, onRequest)
      : Https.createServer({
        cert: certificate.certPem,
        key: certificate.keyPem,
        keepAlive: true,
        ...limits,
        ...clientAuth(options.clientCa)
      }, onRequest)
    // Node 20 takes keepAliveTimeout only as a property, not as an option of createServer.
    server.keepAliveTimeout = limits.keepAliveTimeout
    // A connection silent this long (one that never sends a byte, say) is closed: the backstop.
    server.timeout = limits.requestTimeout
    // A malformed request line or header gets a 400 and the socket is closed; the server lives on.
    server.on("clientError", (_error, socket) => {
      if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
      else socket.destroy()
    })
    server.on("tlsClientError", () => undefined)
    yield* Effect.acquireRelease(
      Effect.async<void, ServeFailure>((resume) => {
        const onError = (error: Error) => resume(Effect.fail(new ServeFailure(`could not listen: ${error.message}`)))
        server.once("error", onError)
        server.listen(options.port ?? 0, host, () => {
          server.off("error", onError)
          resume(Effect.void)
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    const hostInUrl = host.includes(":") ? `[${host}]` : host
    const kdc = simulator.kerberos === undefined
      ? undefined
      : yield* Effect.mapError(listenKdc(simulator.kerberos.kdc, host), (error) =>
        new ServeFailure(`could not listen for the KDC: ${error.message}`))
    return {
      url: `${protocol}://${hostInUrl}:${port}`,
      port,
      caPem: certificate?.caPem,
      certificateDer: certificate?.der,
      kdc
    } satisfies Served
  })
