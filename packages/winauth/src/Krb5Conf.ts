/**
 * The parts of MIT's profile format (krb5.conf) that locate a realm's KDCs and a host's realm:
 * `[libdefaults] default_realm`, `[realms] REALM = { kdc = ... }`, `[domain_realm]` and `[capaths]`; and where
 * the credential caches are (`default_ccache_name`, `kcm_socket`). Lenient like MIT and bounded (one pass, capped sizes): nothing in the text can make it throw or take long.
 *
 * @since 0.2.0
 */
import * as parser from "./internal/kerberos/krb5conf.js"

/**
 * @since 0.2.0
 * @category models
 */
export type Krb5Conf = parser.Krb5Conf

/**
 * The configuration of no file at all (as MIT treats an absent krb5.conf).
 *
 * @since 0.2.0
 * @category constructors
 */
export const empty: Krb5Conf = { defaultRealm: undefined, kdcs: new Map(), domainRealm: [] }

/**
 * Reads krb5.conf's text. Never throws; what lies past a limit is left out and named in `truncated`.
 *
 * @since 0.2.0
 * @category decoding
 */
export const parse: (text: string) => Krb5Conf = parser.parseKrb5Conf

/**
 * The realm of a host by `[domain_realm]` (exact host first, then the longest domain suffix).
 *
 * @since 0.2.0
 * @category getters
 */
export const realmOfHost: (conf: Krb5Conf, host: string) => string | undefined = parser.realmOfHost

/**
 * The realms between a client's realm and a service's by `[capaths]`, in order, neither end
 * included: `[]` for a direct trust (`.`) or when the file says nothing about the pair.
 *
 * @since 0.2.0
 * @category getters
 */
export const capath: (conf: Krb5Conf, clientRealm: string, serviceRealm: string) => ReadonlyArray<string> =
  parser.capathOf

/**
 * The limits the parser keeps to.
 *
 * @since 0.2.0
 * @category constants
 */
export const limits = {
  maxChars: parser.maxKrb5ConfChars,
  maxKdcsPerRealm: parser.maxKdcsPerRealm,
  maxRealms: parser.maxRealms,
  maxDomainRealms: parser.maxDomainRealms,
  maxCapaths: parser.maxCapaths
} as const
