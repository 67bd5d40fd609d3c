/**
 * An `NtlmTransport` that runs `@vedauth/core`'s real NTLM client (NEGOTIATE, CHALLENGE parsing,
 * NTLMv2 AUTHENTICATE with MIC) against the simulator's handler in memory: one in-memory connection
 * per handshake, no sockets. Needs a `Simulator` (see `Simulator.layerTest` for everything at once).
 *
 * @since 0.1.0
 */
import type { NtlmTransport } from "@vedauth/core"
import type { Layer } from "effect"
import * as Simulator from "./Simulator.js"

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<NtlmTransport.NtlmTransport, never, Simulator.Simulator> = Simulator.layerNtlmTransport
