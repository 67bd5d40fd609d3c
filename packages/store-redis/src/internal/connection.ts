/**
 * From a `redis://` or `rediss://` URL to ioredis options, parsed here rather than by the client so
 * that the password is taken out at once and no error can echo the URL.
 *
 * @internal
 */
import { Redacted } from "effect"
import type { RedisOptions } from "ioredis"

/** @internal */
export interface Target {
  readonly host: string
  readonly port: number
  readonly db: number
  readonly tls: boolean
  readonly username: string | undefined
  readonly password: Redacted.Redacted<string> | undefined
}

/**
 * `redis://[user:password@]host:port[/db]` or `rediss://...`; a description of the fault (with no
 * secret in it) when the text is not one.
 *
 * @internal
 */
export const parseUrl = (url: Redacted.Redacted<string>): Target | string => {
  let parsed: URL
  try {
    parsed = new URL(Redacted.value(url))
  } catch {
    return "the Redis store address is not a URL (expected redis://[user:password@]host:port[/db] or rediss://...)"
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
    return `the Redis store address must start with redis:// or rediss://, not ${parsed.protocol}//`
  }
  if (parsed.hostname === "") return "the Redis store address has no host"
  const path = parsed.pathname.replace(/^\//, "")
  if (path !== "" && !/^\d{1,2}$/.test(path)) return "the Redis store address's path must be a database number (0-99)"
  if (parsed.search !== "" || parsed.hash !== "") return "the Redis store address takes no query or fragment"
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: parsed.port === "" ? 6379 : Number(parsed.port),
    db: path === "" ? 0 : Number(path),
    tls: parsed.protocol === "rediss:",
    username: parsed.username === "" ? undefined : decodeURIComponent(parsed.username),
    password: parsed.password === "" ? undefined : Redacted.make(decodeURIComponent(parsed.password))
  }
}

const isAddress = (host: string) => /^[\d.]+$/.test(host) || host.includes(":")

/**
 * The client's options: no endless retries of a command while the server is away (the store's own
 * timeout turns that into a typed error), reconnection with a capped back-off, TLS verified.
 *
 * @internal
 */
export const clientOptions = (
  target: Target,
  extra: {
    readonly ca?: string | undefined
    readonly connectTimeoutMillis: number
    readonly commandTimeoutMillis: number
  }
): RedisOptions => ({
  host: target.host,
  port: target.port,
  db: target.db,
  ...(target.username === undefined ? {} : { username: target.username }),
  ...(target.password === undefined ? {} : { password: Redacted.value(target.password) }),
  // No SNI for an address (RFC 6066 allows names only); the certificate is checked against it all the same.
  ...(target.tls
    ? {
      tls: {
        ...(isAddress(target.host) ? {} : { servername: target.host }),
        ...(extra.ca === undefined ? {} : { ca: extra.ca })
      }
    }
    : {}),
  lazyConnect: true,
  connectTimeout: extra.connectTimeoutMillis,
  commandTimeout: extra.commandTimeoutMillis,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: true,
  retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), 2_000)
})
