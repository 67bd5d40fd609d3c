/**
 * `KcmTransport` on `node:net`: one Unix-socket connection per request to the KCM daemon
 * (sssd-kcm), the KCM framing (a 4-byte big-endian length, then the request; the reply's length
 * `n`, then `4 + n` bytes), a whole-exchange timeout and a cap on the reply size. Bun runs it too.
 *
 * @since 0.2.0
 */
import { KcmTransport } from "@vedauth/core/KcmTransport"
import { Duration, Layer } from "effect"
import * as Net from "node:net"
import * as framed from "./internal/lengthFramed.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** For connecting, sending and reading the whole reply. Default 5 seconds. */
  readonly timeout?: Duration.DurationInput
  /** Replies longer than this are refused (a cache's credential is a few KiB). Default 1 MiB. */
  readonly maxReplyBytes?: number
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options = {}): KcmTransport["Type"] => {
  const timeout = Duration.decode(options.timeout ?? "5 seconds")
  const maxReplyBytes = options.maxReplyBytes ?? 1024 * 1024
  return KcmTransport.of({
    // The reply's length counts the operation's status and data; the transport's status comes first.
    request: (socketPath, request) =>
      framed.exchange({
        connect: () => Net.connect(socketPath),
        peer: `KCM daemon at ${socketPath}`,
        maxReplyBytes,
        extraReplyBytes: 4,
        timeout
      }, request)
  })
}

/**
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: Options = {}): Layer.Layer<KcmTransport> => Layer.succeed(KcmTransport, make(options))
