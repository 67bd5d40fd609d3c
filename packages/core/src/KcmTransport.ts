/**
 * How KCM requests reach the credential-cache daemon (sssd-kcm on RHEL and Fedora, Heimdal's kcm):
 * one request, one reply, over its Unix socket with the KCM framing (a 4-byte big-endian length,
 * then the request; the reply's 4-byte length `n`, then `4 + n` bytes). The requests and replies
 * are `@vedauth/winauth`'s `Kcm` codec's. Platform packages provide layers (`NodeKcmTransport`);
 * `layerMemory` answers from a function, for tests.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer } from "effect"
import { TransportError } from "./VedAuthError.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface Service {
  /**
   * Sends one request (without its length prefix) to the daemon listening on `socketPath` and
   * returns the `4 + n` bytes of its reply (after the length). Fails with `TransportError` when the
   * socket cannot be reached, closes early, answers too much, or takes longer than the layer's
   * timeout.
   */
  readonly request: (socketPath: string, request: Uint8Array) => Effect.Effect<Uint8Array, TransportError>
}

/**
 * @since 0.2.0
 * @category tags
 */
export class KcmTransport extends Context.Tag("@vedauth/core/KcmTransport")<KcmTransport, Service>() {}

/**
 * A transport that hands each request to `answer` in memory: a test daemon, or a scripted reply.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerMemory = (
  answer: (socketPath: string, request: Uint8Array) => Effect.Effect<Uint8Array, TransportError>
): Layer.Layer<KcmTransport> => Layer.succeed(KcmTransport, KcmTransport.of({ request: answer }))

/**
 * A transport where no daemon answers: every request fails with `TransportError`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerUnreachable: Layer.Layer<KcmTransport> = layerMemory((socketPath) =>
  Effect.fail(new TransportError({ detail: `no KCM daemon answered on ${socketPath}` }))
)
