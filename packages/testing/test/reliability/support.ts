/**
 * Shared pieces of the reliability suite: the simulator on a real socket with a response-rewriting
 * fault hook, the Node client wired to it, and the secret checks.
 */
import type * as VedAuth from "@vedauth/core/VedAuth"
import type { TransportError } from "@vedauth/core/VedAuthError"
import { NodeVedAuth } from "@vedauth/platform-node"
import type { ConfigError } from "effect"
import { Effect, Layer, Redacted, Ref } from "effect"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Simulator from "../../src/Simulator.js"

/** The number of fast-check runs per property: small in `pnpm test`, large under `pnpm fuzz`. */
export const fuzzRuns = (small: number): number => {
  const configured = Number(process.env["FUZZ_RUNS"])
  return Number.isFinite(configured) && configured > 0 ? configured : small
}

/** A password nobody would type, so that finding it anywhere is a leak and never a coincidence. */
export const password = Redacted.make("Pw-9c41e7f0-ScanMe!")

/** Rewrites the answer to a matching request; `undefined` leaves it as the simulator gave it. */
export type Rewrite = (request: Simulator.Request, response: Simulator.Response) => Simulator.Response | undefined

export interface Faulty {
  readonly url: string
  readonly simulator: Simulator.Service
  readonly rewrite: Ref.Ref<Rewrite | undefined>
  /** Every refresh token sent to authorize/token, in order. */
  readonly refreshTokensSent: Array<string>
  /** Every token the simulator handed out plus the password: none may leak. */
  readonly secrets: () => ReadonlyArray<string>
}

const decoder = new TextDecoder()

const pathOf = (request: Simulator.Request) => request.path.split("?")[0]!.toLowerCase()

/** True for the request to a VEDauth endpoint, e.g. `endpoint(request, "authorize/token")`. */
export const isEndpoint = (request: Simulator.Request, name: string): boolean => pathOf(request) === `/vedauth/${name}`

/** The simulator on 127.0.0.1 over HTTP, with the default user's password replaced by `password`. */
export const serveFaulty = (options: Simulator.Options = {}) =>
  Effect.gen(function*() {
    const simulator = yield* Simulator.make({
      users: [{ domain: "CORP", name: "alice", password }],
      ...options
    })
    const rewrite = yield* Ref.make<Rewrite | undefined>(undefined)
    const refreshTokensSent: Array<string> = []
    const issued = new Set<string>()
    const wrapped: Simulator.Service = {
      ...simulator,
      handle: (connection, request) =>
        Effect.gen(function*() {
          if (isEndpoint(request, "authorize/token")) {
            const sent = (JSON.parse(decoder.decode(request.body)) as { refresh_token?: unknown }).refresh_token
            if (typeof sent === "string") refreshTokensSent.push(sent)
          }
          const response = yield* simulator.handle(connection, request)
          const text = decoder.decode(response.body)
          for (const match of text.matchAll(/"(?:access_token|refresh_token)":"([^"]+)"/g)) issued.add(match[1]!)
          const change = yield* Ref.get(rewrite)
          return change?.(request, response) ?? response
        })
    }
    const served = yield* Simulator.listen(wrapped, { protocol: "http", host: "127.0.0.1" })
    return {
      url: served.url,
      simulator,
      rewrite,
      refreshTokensSent,
      secrets: () => [Redacted.value(password), ...issued]
    } satisfies Faulty
  })

/** A temporary folder for the token store, removed with the scope. */
export const tempDir = Effect.acquireRelease(
  Effect.promise(() => Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-reliability-"))),
  (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
)

/** The real Node client (NodeNtlmTransport, node:http client, file token store) against `url`. */
export const nodeClient = (
  url: string,
  storeDir: string,
  overrides: Partial<NodeVedAuth.Options> = {}
): Layer.Layer<VedAuth.VedAuth, TransportError | ConfigError.ConfigError> =>
  Layer.fresh(NodeVedAuth.layer({
    url,
    clientId: Simulator.defaultClientId,
    scope: "certificate:manage",
    username: "CORP\\alice",
    password,
    tokenStorePath: Path.join(storeDir, "tokens.json"),
    transport: { responseTimeout: "2 seconds", connectTimeout: "2 seconds", maxBodyBytes: 64 * 1024 },
    ...overrides
  }))

/** Every rendering of a value a user or a log could see. */
export const renderings = (value: unknown): ReadonlyArray<string> => {
  const out = [String(value)]
  if (value instanceof Error) out.push(value.message, value.stack ?? "")
  try {
    out.push(JSON.stringify(value) ?? "")
  } catch {
    out.push("<unserialisable>")
  }
  return out
}

/** The secrets found in `text`, in any letter case (a lower-cased token is still a leak): empty when clean. */
export const leaked = (text: string, secrets: ReadonlyArray<string>): ReadonlyArray<string> => {
  const folded = text.toLowerCase()
  return secrets.filter((secret) => secret.length > 0 && folded.includes(secret.toLowerCase()))
}

/** A JSON answer with the given status, reason and body text: the shapes a broken server sends. */
export const answer = (
  status: number,
  reason: string,
  body: string | Uint8Array,
  contentType = "application/json; charset=utf-8"
): Simulator.Response => ({
  status,
  reason,
  headers: { "content-type": contentType },
  body: typeof body === "string" ? new TextEncoder().encode(body) : body
})
