/**
 * The Kerberos keys of a profile, as plain data: the lean `token` path reads profiles and must not
 * load what resolves them (`kerberos.ts`, on Effect and core).
 * @internal
 */

/** The Kerberos selectors a profile keeps, besides an explicitly named credential cache. @internal */
export const kerberosSelectorKeys = ["mechanism", "realm", "kdc", "spn", "keytab"] as const

/** What `login` saves of Kerberos in a profile. @internal */
export type KerberosProfileKey = (typeof kerberosSelectorKeys)[number] | "cache"

/** @internal */
export const kerberosProfileKeys: ReadonlyArray<KerberosProfileKey> = [...kerberosSelectorKeys, "cache"]
