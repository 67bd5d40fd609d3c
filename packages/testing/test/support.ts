import { Effect } from "effect"
import type * as Simulator from "../src/Simulator.js"

export interface Answer {
  readonly status: number
  readonly reason: string
  readonly headers: Simulator.Response["headers"]
  readonly text: string
  readonly json: any
}

const read = (response: Simulator.Response): Answer => {
  const text = new TextDecoder().decode(response.body)
  let json: unknown = undefined
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: response.status, reason: response.reason, headers: response.headers, text, json }
}

/** One request on a fresh connection (or the one given), straight into the handler. */
export const call = (
  simulator: Simulator.Service,
  method: string,
  path: string,
  options: {
    readonly body?: unknown
    readonly raw?: string | Uint8Array
    readonly token?: string
    readonly headers?: Record<string, string>
    readonly connection?: Simulator.Connection
  } = {}
) =>
  Effect.gen(function*() {
    const connection = options.connection ?? (yield* simulator.connect())
    const body = options.raw !== undefined
      ? typeof options.raw === "string" ? new TextEncoder().encode(options.raw) : options.raw
      : options.body === undefined
      ? new Uint8Array(0)
      : new TextEncoder().encode(JSON.stringify(options.body))
    const headers: Record<string, string> = { "content-type": "application/json", ...options.headers }
    if (options.token !== undefined) headers["authorization"] = `Bearer ${options.token}`
    return read(yield* simulator.handle(connection, { method, path, headers, body }))
  })

export const alice = {
  client_id: "vedauth-demo",
  username: "CORP\\alice",
  password: "Passw0rd!",
  scope: "certificate:manage,revoke"
}

/** A grant by the password grant (no NTLM needed). */
export const oauth = (simulator: Simulator.Service, body: Record<string, unknown> = alice) =>
  call(simulator, "POST", "/vedauth/authorize/oauth", { body })
