/**
 * What a runtime brings to the conformance suite: its one-layer wiring of VEDauth (transport, HTTP
 * client, file system). Each runner (deno test, Bun, vitest on Node) names its runtime and layer.
 */
import type * as VedAuth from "@vedauth/core/VedAuth"
import type { NodeNtlmTransport } from "@vedauth/platform-node"
import type { Layer } from "effect"

export interface PlatformOptions extends VedAuth.Options {
  /** The simulator's self-signed certificate over HTTPS, to trust for every call. */
  readonly ca: string | undefined
  readonly tokenStorePath: string
  /** Receives each NTLM handshake's round trips and sockets. */
  readonly onHandshake: (stats: NodeNtlmTransport.Stats) => void
  /** An HTTP proxy for every call to TPP (the transport's `proxy` option). */
  readonly proxy?: string
}

export interface Platform {
  /** "deno", "bun" or "node": printed with every case. */
  readonly runtime: string
  readonly layer: (options: PlatformOptions) => Layer.Layer<VedAuth.VedAuth, unknown>
}
