/**
 * The parts of MIT's profile format (krb5.conf) that locate a realm's KDCs: `[libdefaults]
 * default_realm`, `[realms] REALM = { kdc = host[:port] }` and `[domain_realm]`. Lenient like MIT:
 * unknown sections, relations and comments are skipped; nothing in it can make the parser throw.
 */

/** @internal */
export interface Krb5Conf {
  readonly defaultRealm: string | undefined
  readonly kdcs: ReadonlyMap<string, ReadonlyArray<string>>
  /** `.example.com` (a domain) or `host.example.com` (one host) → realm, in file order. */
  readonly domainRealm: ReadonlyArray<readonly [string, string]>
}

/** @internal */
export const parseKrb5Conf = (text: string): Krb5Conf => {
  let section = ""
  let realm: string | undefined
  let defaultRealm: string | undefined
  const kdcs = new Map<string, Array<string>>()
  const domainRealm: Array<readonly [string, string]> = []
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/^\s+|\s+$/g, "")
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const header = /^\[([^\]]+)\]$/.exec(line)
    if (header !== null) {
      section = header[1]!.trim().toLowerCase()
      realm = undefined
      continue
    }
    if (line === "}") {
      realm = undefined
      continue
    }
    const relation = /^([^=\s]+)\s*=\s*(.*)$/.exec(line)
    if (relation === null) continue
    const [, key, rawValue] = relation as unknown as [string, string, string]
    const value = rawValue.replace(/\s+#.*$/, "").trim()
    if (section === "libdefaults" && key === "default_realm") defaultRealm = value
    else if (section === "realms" && value === "{") realm = key
    else if (section === "realms" && realm !== undefined && key === "kdc" && value !== "") {
      kdcs.set(realm, [...(kdcs.get(realm) ?? []), value])
    } else if (section === "domain_realm" && value !== "") domainRealm.push([key.toLowerCase(), value])
  }
  return { defaultRealm, kdcs, domainRealm }
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
