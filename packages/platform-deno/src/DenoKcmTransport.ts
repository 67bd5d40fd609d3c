/**
 * `KcmTransport` for Deno: KCM requests to the credential-cache daemon (sssd-kcm) over its Unix
 * socket. Deno's `node:net` carries `@vedauth/platform-node`'s transport unchanged; Deno asks for
 * `--allow-net=unix:<socket>` (krb5.conf's `kcm_socket`, else `/var/run/.heim_org.h5l.kcm-socket`),
 * and without it the request fails with a `TransportError` that names the permission.
 * `DenoVedAuth.layer` provides it.
 *
 * @since 0.2.0
 */
import type { KcmTransport } from "@vedauth/core/KcmTransport"
import { NodeKcmTransport } from "@vedauth/platform-node"
import type { Layer } from "effect"

/**
 * Timeout (default 5 seconds) and reply cap (default 1 MiB), as on Node.
 *
 * @since 0.2.0
 * @category models
 */
export type Options = NodeKcmTransport.Options

/**
 * @since 0.2.0
 * @category constructors
 */
export const make: (options?: Options) => KcmTransport["Type"] = NodeKcmTransport.make

/**
 * @since 0.2.0
 * @category layers
 */
export const layer: (options?: Options) => Layer.Layer<KcmTransport> = NodeKcmTransport.layer
