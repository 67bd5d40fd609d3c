/**
 * Which HTTP proxy a request to TPP goes through, as curl chooses it: pure code, no I/O.
 *
 * - `https_proxy`/`HTTPS_PROXY` for https URLs, `http_proxy` for http ones (lower case only, as curl:
 *   a CGI program's environment may hold `HTTP_PROXY` from a request's `Proxy:` header, "httpoxy").
 *   An explicit proxy (the `proxy` option, `VEDAUTH_PROXY`, `--proxy`) applies to both, and `false`
 *   turns the variables off.
 * - `no_proxy`/`NO_PROXY` (or the `noProxy` option) lists what is reached directly: `*`, host names
 *   (which also match their subdomains, with or without a leading dot), IP addresses and CIDR
 *   ranges, each optionally `:port`. Loopback is proxied unless the list names it, as curl does.
 * @internal
 */
import { TransportError } from "@vedauth/core/VedAuthError"
import { Effect, Redacted } from "effect"
import * as Net from "node:net"
import * as Process from "node:process"

/** A proxy to open tunnels through; its credentials only in `authorization`. @internal */
export interface Proxy {
  readonly host: string
  readonly port: number
  /** The `Proxy-Authorization` header value (Basic) from the URL's user and password, percent-decoded. */
  readonly authorization: Redacted.Redacted<string> | undefined
  /** `host:port`, for messages: never the user or the password. */
  readonly shown: string
}

/** What the layer was given, before the environment is consulted. @internal */
export interface ProxySettings {
  /** A proxy URL for every request, `false` for none whatever the environment says, absent: the environment. */
  readonly proxy?: string | Redacted.Redacted<string> | false | undefined
  /** Hosts reached directly (curl's `NO_PROXY` syntax); absent: `no_proxy`/`NO_PROXY`. */
  readonly noProxy?: string | undefined
}

/** The environment variables read, by name. @internal */
export type Env = Readonly<Record<string, string | undefined>>

/** How to reach TPP: the proxy for each scheme and the hosts reached directly. @internal */
export interface Routes {
  readonly https: Proxy | undefined
  readonly http: Proxy | undefined
  readonly direct: NoProxy
}

interface NoProxyEntry {
  readonly host: string
  readonly port: number | undefined
}

/** @internal */
export interface NoProxy {
  readonly all: boolean
  readonly entries: ReadonlyArray<NoProxyEntry>
  readonly ranges: Net.BlockList
}

const MAX_ENTRIES = 1000

const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value.trim()

const stripBrackets = (host: string): string => host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host

/** One `NO_PROXY` entry: `host`, `.suffix`, `host:port`, `[v6]:port`, `10.0.0.0/8`. */
const parseEntry = (text: string): NoProxyEntry => {
  const bracketed = /^\[([^\]]*)\](?::(\d+))?$/.exec(text)
  if (bracketed !== null) {
    return { host: bracketed[1]!.toLowerCase(), port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) }
  }
  // A bare IPv6 address has several colons: no port then.
  const colon = text.lastIndexOf(":")
  if (colon > 0 && text.indexOf(":") === colon && /^\d+$/.test(text.slice(colon + 1))) {
    return { host: normalizeHost(text.slice(0, colon)), port: Number(text.slice(colon + 1)) }
  }
  return { host: normalizeHost(text), port: undefined }
}

const normalizeHost = (host: string): string => host.toLowerCase().replace(/^\.+/, "").replace(/\.+$/, "")

/**
 * Parses a `NO_PROXY` list (commas or white space between entries; at most 1000 entries are read).
 * @internal
 */
export const parseNoProxy = (list: string | undefined): NoProxy => {
  const ranges = new Net.BlockList()
  const entries: Array<NoProxyEntry> = []
  let all = false
  for (const item of (list ?? "").split(/[\s,]+/).slice(0, MAX_ENTRIES)) {
    if (item === "") continue
    if (item === "*") {
      all = true
      continue
    }
    const cidr = /^([^/]+)\/(\d{1,3})$/.exec(item)
    const family = cidr === null ? 0 : Net.isIP(stripBrackets(cidr[1]!))
    if (cidr !== null && family !== 0) {
      const bits = Number(cidr[2])
      if (bits <= (family === 4 ? 32 : 128)) {
        ranges.addSubnet(stripBrackets(cidr[1]!), bits, family === 4 ? "ipv4" : "ipv6")
      }
      continue
    }
    const entry = parseEntry(item)
    if (entry.host !== "") entries.push(entry)
  }
  return { all, entries, ranges }
}

/**
 * True when a request to `host:port` goes direct by the list: `*`, the host itself, a domain it is
 * in (`example.com` and `.example.com` both match `tpp.example.com`), its address in a range; an
 * entry with a port matches that port only.
 * @internal
 */
export const bypasses = (noProxy: NoProxy, hostname: string, port: number): boolean => {
  if (noProxy.all) return true
  const host = normalizeHost(stripBrackets(hostname))
  const family = Net.isIP(host)
  if (family !== 0 && noProxy.ranges.check(host, family === 4 ? "ipv4" : "ipv6")) return true
  return noProxy.entries.some((entry) =>
    (entry.port === undefined || entry.port === port) &&
    (host === entry.host || (family === 0 && host.endsWith(`.${entry.host}`)))
  )
}

const settingError = (source: string, why: string) =>
  new TransportError({ detail: `the proxy in ${source} ${why} (expected http://[user:password@]host[:port])` })

const decode = (text: string, source: string): string => {
  try {
    return decodeURIComponent(text)
  } catch {
    throw settingError(source, "has a user or password that is not valid percent-encoding")
  }
}

/**
 * A proxy URL as curl reads it: no scheme means `http://`, no port means 1080; the user and
 * password, percent-decoded, become a Basic `Proxy-Authorization`. Messages never repeat the text,
 * which may hold a password.
 * @internal
 */
export const parseProxy = (text: string, source: string): Proxy => {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`
  if (!URL.canParse(withScheme)) throw settingError(source, "is not a valid URL")
  const url = new URL(withScheme)
  if (url.protocol !== "http:") {
    throw settingError(
      source,
      `uses ${url.protocol.slice(0, -1).slice(0, 16)}://, which is not supported; only http:// proxies are`
    )
  }
  if (url.hostname === "") throw settingError(source, "names no host")
  const port = url.port === "" ? 1080 : Number(url.port)
  const user = decode(url.username, source)
  const password = decode(url.password, source)
  const authorization = user === "" && password === ""
    ? undefined
    : Redacted.make(`Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`)
  return { host: stripBrackets(url.hostname), port, authorization, shown: `${url.hostname}:${port}` }
}

const firstOf = (
  env: Env,
  names: ReadonlyArray<string>
): { readonly name: string; readonly value: string } | undefined => {
  for (const name of names) {
    const value = nonEmpty(env[name])
    if (value !== undefined) return { name, value }
  }
  return undefined
}

const fromEnv = (env: Env, names: ReadonlyArray<string>): Proxy | undefined => {
  const found = firstOf(env, names)
  return found === undefined ? undefined : parseProxy(found.value, found.name)
}

/**
 * The routes of a layer: the explicit proxy, else the environment's, and the direct list. A
 * setting that cannot be used is a `TransportError` (when the layer is built, not at a request).
 * @internal
 */
export const routes = (settings: ProxySettings, env: Env): Routes | TransportError => {
  try {
    const direct = parseNoProxy(settings.noProxy ?? firstOf(env, ["no_proxy", "NO_PROXY"])?.value)
    const explicit = settings.proxy
    if (explicit === false) return { https: undefined, http: undefined, direct }
    if (explicit !== undefined) {
      const text = nonEmpty(Redacted.isRedacted(explicit) ? Redacted.value(explicit) : explicit)
      const proxy = text === undefined ? undefined : parseProxy(text, "the proxy option")
      return { https: proxy, http: proxy, direct }
    }
    return { https: fromEnv(env, ["https_proxy", "HTTPS_PROXY"]), http: fromEnv(env, ["http_proxy"]), direct }
  } catch (error) {
    if (error instanceof TransportError) return error
    throw error
  }
}

/**
 * The proxy for a request to `protocol://hostname:port`, or undefined to go direct.
 * @internal
 */
export const proxyFor = (routes: Routes, protocol: string, hostname: string, port: number): Proxy | undefined => {
  const proxy = protocol === "https:" ? routes.https : protocol === "http:" ? routes.http : undefined
  return proxy === undefined || bypasses(routes.direct, hostname, port) ? undefined : proxy
}

/** True when no request can go through a proxy (no agent needs the tunnel). @internal */
export const isDirect = (routes: Routes): boolean => routes.https === undefined && routes.http === undefined

/**
 * `routes` of the options and the process environment, read now, as an effect.
 * @internal
 */
export const resolveRoutes = (settings: ProxySettings): Effect.Effect<Routes, TransportError> =>
  Effect.suspend(() => {
    const result = routes(settings, Process.env)
    return result instanceof TransportError ? Effect.fail(result) : Effect.succeed(result)
  })
