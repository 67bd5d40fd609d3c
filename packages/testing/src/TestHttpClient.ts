/**
 * An `@effect/platform` `HttpClient` that hands every request to the simulator's handler in memory,
 * whatever the host in the URL (a fresh, anonymous connection per request). The reason phrase is kept
 * as the underlying web `Response`'s `statusText`.
 *
 * @since 0.1.0
 */
import type { HttpClient } from "@effect/platform"
import type { Layer } from "effect"
import * as Simulator from "./Simulator.js"

/**
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<HttpClient.HttpClient, never, Simulator.Simulator> = Simulator.layerHttpClient
