/**
 * `KdcTransport` for Deno: Kerberos messages to the KDC over TCP (RFC 4120 section 7.2.2 framing),
 * with a timeout and a reply cap. Deno's `node:net` carries `@vedauth/platform-node`'s transport
 * unchanged, as `node:https` carries the NTLM handshake; the conformance suite (`pnpm test:deno`)
 * proves it under real `deno test`, getting tickets from the simulator's KDC on loopback.
 * `DenoVedAuth.layer` provides it.
 *
 * @since 0.2.0
 */
import type { KdcTransport } from "@vedauth/core/KdcTransport"
import { NodeKdcTransport } from "@vedauth/platform-node"
import type { Layer } from "effect"

/**
 * Timeout (default 10 seconds) and reply cap (default 1 MiB), as on Node.
 *
 * @since 0.2.0
 * @category models
 */
export type Options = NodeKdcTransport.Options

/**
 * @since 0.2.0
 * @category constructors
 */
export const make: (options?: Options) => KdcTransport["Type"] = NodeKdcTransport.make

/**
 * @since 0.2.0
 * @category layers
 */
export const layer: (options?: Options) => Layer.Layer<KdcTransport> = NodeKdcTransport.layer
