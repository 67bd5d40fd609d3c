/**
 * The parts of MIT's profile format (krb5.conf) that locate a realm's KDCs: `[libdefaults]
 * default_realm`, `[realms] REALM = { kdc = host[:port] }`, `[domain_realm]` and `[capaths]` (the
 * realms between a client's realm and a service's, for cross-realm trust). Lenient like MIT:
 * unknown sections, relations, subsections and comments are skipped; nothing in it can make the
 * parser throw.
 *
 * Bounded, as the file may be anyone's (`KRB5_CONFIG`): one pass over each line, no regular
 * expression that backtracks (the former parser took 17 s on one 100 KB line of spaces and 35 s on
 * 60,000 `kdc =` lines), at most `maxKrb5ConfChars` read and at most `maxKdcsPerRealm`,
 * `maxRealms`, `maxDomainRealms` and `maxCapaths` values kept. What lies past a limit is left out, and `truncated`
 * says which limit was reached.
 */

/** @internal */
export interface Krb5Conf {
  readonly defaultRealm: string | undefined
  readonly kdcs: ReadonlyMap<string, ReadonlyArray<string>>
  /** `.example.com` (a domain) or `host.example.com` (one host) → realm, in file order. */
  readonly domainRealm: ReadonlyArray<readonly [string, string]>
  /**
   * `[capaths]`: client realm → service realm → the intermediate realms, in order (`.`, a direct
   * trust, is an empty list). Absent when the file has no such section.
   */
  readonly capaths?: ReadonlyMap<string, ReadonlyMap<string, ReadonlyArray<string>>>
  /** `[libdefaults] default_ccache_name` (`KCM:` on RHEL and Fedora), as written. */
  readonly defaultCcacheName?: string
  /** `[libdefaults] kcm_socket`: where the KCM daemon listens. */
  readonly kcmSocket?: string
  /** Set when the text went past a limit: what was left out (the rest is as written). */
  readonly truncated?: string
}

/** The most characters of krb5.conf read: real files are a few KB; the rest is left out. @internal */
export const maxKrb5ConfChars = 1024 * 1024

/** The most `kdc` lines kept for one realm (each is tried in turn). @internal */
export const maxKdcsPerRealm = 64

/** The most realms with `kdc` lines kept. @internal */
export const maxRealms = 1024

/** The most `[domain_realm]` entries kept. @internal */
export const maxDomainRealms = 4096

/** The most `[capaths]` values (intermediate realms, all pairs together) kept. @internal */
export const maxCapaths = 4096

// What `\s` matches in a regular expression (and `trim` removes).
const isSpace = (code: number): boolean =>
  code === 0x20 || (code >= 0x09 && code <= 0x0d) || code === 0xa0 || code === 0x1680 ||
  (code >= 0x2000 && code <= 0x200a) ||
  code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff

// A relation's value without a trailing ` # comment` (a `#` that follows a space), trimmed.
const valueOf = (raw: string): string => {
  for (let at = 1; at < raw.length; at++) {
    if (raw.charCodeAt(at) === 0x23 && isSpace(raw.charCodeAt(at - 1))) return raw.slice(0, at).trim()
  }
  return raw.trim()
}

/** `key = value` (the key without spaces or `=`), or `undefined` for any other line. */
const relationOf = (line: string): readonly [string, string] | undefined => {
  let at = 0
  while (at < line.length && line.charCodeAt(at) !== 0x3d && !isSpace(line.charCodeAt(at))) at++
  if (at === 0) return undefined
  const key = line.slice(0, at)
  while (at < line.length && isSpace(line.charCodeAt(at))) at++
  if (line.charCodeAt(at) !== 0x3d) return undefined
  return [key, valueOf(line.slice(at + 1))]
}

/** @internal */
export const parseKrb5Conf = (input: string): Krb5Conf => {
  const limits: Array<string> = []
  const note = (what: string) => {
    if (!limits.includes(what)) limits.push(what)
  }
  if (input.length > maxKrb5ConfChars) note(`only its first ${maxKrb5ConfChars} characters are read`)
  const text = input.length > maxKrb5ConfChars ? input.slice(0, maxKrb5ConfChars) : input
  let section = ""
  // `{ ... }` nesting inside the section; a realm's own relations are at depth 1.
  let depth = 0
  let realm: string | undefined
  let defaultRealm: string | undefined
  const libdefaults: { defaultCcacheName?: string; kcmSocket?: string } = {}
  const kdcs = new Map<string, Array<string>>()
  const domainRealm: Array<readonly [string, string]> = []
  const capaths = new Map<string, Map<string, Array<string>>>()
  let capathValues = 0
  const addCapath = (client: string, server: string, value: string) => {
    // Each relation counts, `.` too, so that no text makes the maps grow past the bound.
    const hops = value.split(" ").filter((v) => v !== "" && v !== ".")
    if (capathValues + Math.max(1, hops.length) > maxCapaths) {
      return note(`more than ${maxCapaths} [capaths] values are left out`)
    }
    capathValues += Math.max(1, hops.length)
    const byServer = capaths.get(client) ?? new Map<string, Array<string>>()
    capaths.set(client, byServer)
    // MIT reads one realm per relation (repeated for a longer path); a list on one line is read too.
    const list = byServer.get(server) ?? []
    byServer.set(server, list)
    list.push(...hops)
  }
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    if (line.startsWith("[") && line.endsWith("]") && line.length > 2 && line.indexOf("]") === line.length - 1) {
      section = line.slice(1, -1).trim().toLowerCase()
      depth = 0
      realm = undefined
      continue
    }
    if (line === "}") {
      depth = Math.max(0, depth - 1)
      if (depth === 0) realm = undefined
      continue
    }
    const relation = relationOf(line)
    if (relation === undefined) continue
    const [key, value] = relation
    if (value === "{") {
      if ((section === "realms" || section === "capaths") && depth === 0) realm = key
      depth++
      continue
    }
    if (section === "libdefaults" && depth === 0 && key === "default_realm") defaultRealm = value
    else if (section === "libdefaults" && depth === 0 && key === "default_ccache_name" && value !== "") {
      libdefaults.defaultCcacheName = value
    } else if (section === "libdefaults" && depth === 0 && key === "kcm_socket" && value !== "") {
      libdefaults.kcmSocket = value
    } else if (section === "realms" && depth === 1 && realm !== undefined && key === "kdc" && value !== "") {
      const list = kdcs.get(realm)
      if (list === undefined) {
        if (kdcs.size >= maxRealms) note(`KDCs of more than ${maxRealms} realms are left out`)
        else kdcs.set(realm, [value])
      } else if (list.length >= maxKdcsPerRealm) note(`more than ${maxKdcsPerRealm} KDCs of a realm are left out`)
      else list.push(value)
    } else if (section === "domain_realm" && depth === 0 && value !== "") {
      if (domainRealm.length >= maxDomainRealms) {
        note(`more than ${maxDomainRealms} [domain_realm] entries are left out`)
      } else domainRealm.push([key.toLowerCase(), value])
    } else if (section === "capaths" && depth === 1 && realm !== undefined && value !== "") {
      addCapath(realm.toUpperCase(), key.toUpperCase(), value.toUpperCase())
    }
  }
  return {
    defaultRealm,
    kdcs,
    domainRealm,
    ...(capaths.size === 0 ? {} : { capaths }),
    ...libdefaults,
    ...(limits.length === 0 ? {} : { truncated: limits.join("; ") })
  }
}

/** The realm of a host by `[domain_realm]` (exact host first, then the longest domain suffix). @internal */
export const realmOfHost = (conf: Krb5Conf, host: string): string | undefined => {
  const name = host.toLowerCase()
  const exact = conf.domainRealm.find(([key]) => key === name)
  if (exact !== undefined) return exact[1]
  let best: readonly [string, string] | undefined
  for (const entry of conf.domainRealm) {
    const domain = entry[0].startsWith(".") ? entry[0] : `.${entry[0]}`
    if (name.endsWith(domain) && (best === undefined || domain.length > best[0].length)) best = [domain, entry[1]]
  }
  return best?.[1]
}

/**
 * The realms between `client` and `service` by `[capaths]` (not counting either end), or `[]` for a
 * direct trust or no entry (MIT then assumes a hierarchy; vedauth asks for the direct trust and
 * follows the KDC's referrals). @internal
 */
export const capathOf = (conf: Krb5Conf, client: string, service: string): ReadonlyArray<string> =>
  conf.capaths?.get(client.toUpperCase())?.get(service.toUpperCase()) ?? []
