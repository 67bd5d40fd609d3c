/**
 * Transport-neutral request and response shapes shared by the socket server and the in-memory
 * layers, plus helpers that build VEDauth's answers.
 */

/** @internal */
export interface SimRequest {
  readonly method: string
  /** Path with query string, as on the request line. */
  readonly path: string
  /** Lower-case names. Repeated headers are joined with ", " as node does. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/** @internal */
export interface SimResponse {
  readonly status: number
  readonly reason: string
  /** Lower-case names; an array sends one header line per value (WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string>>>
  readonly body: Uint8Array
  /**
   * "close": answer then close the connection; "drop": close it without answering; "truncate" (socket
   * server only): announce the whole body, send half of it, then close (a connection lost mid-body).
   */
  readonly connection?: "close" | "drop" | "truncate"
}

const encoder = new TextEncoder()

// Node refuses reason phrases with control characters; keep them printable ASCII.
const safeReason = (reason: string): string => reason.replace(/[^\x20-\x7e]/g, "?")

/** @internal */
export const json = (
  status: number,
  reason: string,
  body: unknown,
  headers: Record<string, string | ReadonlyArray<string>> = {}
): SimResponse => ({
  status,
  reason: safeReason(reason),
  headers: { "content-type": "application/json; charset=utf-8", ...headers },
  body: encoder.encode(JSON.stringify(body))
})

/** @internal */
export const text = (
  status: number,
  reason: string,
  body: string,
  headers: Record<string, string | ReadonlyArray<string>> = {}
): SimResponse => ({
  status,
  reason: safeReason(reason),
  headers: { "content-type": "text/plain; charset=utf-8", ...headers },
  body: encoder.encode(body)
})

/** VEDauth's 400 with `{error, error_description}`; the description doubles as the reason phrase. @internal */
export const oauthError = (error: string, description: string): SimResponse =>
  json(400, description, { error, error_description: description })

/** @internal */
export const reasonPhrases: Readonly<Record<number, string>> = {
  200: "OK",
  202: "Accepted",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  413: "Request Entity Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable"
}

/** @internal */
export const bearerToken = (headers: Readonly<Record<string, string>>): string | undefined => {
  const value = headers["authorization"]
  if (value === undefined) return undefined
  const match = /^\s*Bearer\s+(\S+)\s*$/i.exec(value)
  return match?.[1]
}

/** @internal */
export const parseJsonObject = (body: Uint8Array): Record<string, unknown> | undefined => {
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body))
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

/** @internal */
export const stringField = (body: Record<string, unknown>, name: string): string | undefined => {
  const value = body[name]
  return typeof value === "string" ? value : undefined
}
