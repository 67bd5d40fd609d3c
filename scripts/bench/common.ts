/**
 * What every part of the benchmark shares: who authorizes against which simulator, the layers of
 * the vedauth client, and the arithmetic of the figures.
 */
import { NodeHttpClient, NodePath } from "@effect/platform-node"
import { Grant, TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeNtlmTransport, NodeTokenStoreFiles } from "@vedauth/platform-node"
import * as Simulator from "@vedauth/testing/Simulator"
import { DateTime, Effect, Layer, Redacted } from "effect"
import * as Path from "node:path"

export const DOMAIN = "CORP"
export const USER = "alice"
export const PASSWORD = "Passw0rd!"
export const CLIENT_ID = Simulator.defaultClientId
export const SCOPE = "certificate:manage"
export const body = JSON.stringify({ client_id: CLIENT_ID, scope: SCOPE })

/** The repository's root (for node_modules and the CLI bundle). */
export const root = process.env["VEDAUTH_BENCH_ROOT"] ?? process.cwd()

/** A sibling entry point of the bundle (`server.mjs`, `worker.mjs`), for `fork`. */
export const entry = (name: "server" | "worker"): string =>
  Path.join(process.env["VEDAUTH_BENCH_DIR"] ?? Path.dirname(process.argv[1]!), `${name}.mjs`)

/** VedAuth on Node's clients, as the bench's user, over the given token store (the store stays in the context). */
export const vedauthLayer = <E>(url: string, store: Layer.Layer<TokenStore.TokenStore, E>) =>
  VedAuth.layer({
    url,
    clientId: CLIENT_ID,
    scope: SCOPE,
    username: `${DOMAIN}\\${USER}`,
    password: Redacted.make(PASSWORD)
  }).pipe(
    Layer.provideMerge(Layer.mergeAll(NodeHttpClient.layer, NodeNtlmTransport.layer(), store))
  )

export const fileStoreLayer = (path: string) =>
  TokenStore.layerFileSystem({ path }).pipe(Layer.provide(Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer)))

export const storeKey = (url: string): TokenStore.Key => ({
  server: url,
  clientId: CLIENT_ID,
  scope: SCOPE,
  user: `${DOMAIN}\\${USER}`
})

/** A grant already past its expiry (but refreshable): the next accessToken must refresh it. */
export const staleCopy = (grant: Grant.Grant) =>
  Effect.map(
    DateTime.now,
    (now) =>
      new Grant.Grant({
        ...grant,
        issuedAt: DateTime.subtract(now, { hours: 2 }),
        expiresAt: DateTime.subtract(now, { seconds: 1 })
      })
  )

export const failureText = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error)
  return text.split("\n")[0]!.slice(0, 160)
}

export const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits))

export const hr = () => process.hrtime.bigint()
