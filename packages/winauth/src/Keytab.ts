/**
 * MIT keytab files (format 0x0502, what `kadmin ktadd`, `ktutil`, `samba-tool domain exportkeytab`
 * and Windows `ktpass` write): long-term keys, so that a service or a client needs no password.
 * Only AES entries are kept; holes are skipped. The bytes come from the caller (no file access).
 *
 * @since 0.2.0
 */
import type { ServiceKey } from "./internal/kerberos/acceptor.js"
import { attempt } from "./internal/kerberos/attempt.js"
import { enctypes } from "./internal/kerberos/enctypes.js"
import * as codec from "./internal/kerberos/keytab.js"
import { NameType, principalText } from "./internal/kerberos/types.js"
import type { Principal } from "./Kerberos.js"

/**
 * One long-term key: principal, realm, key version number and the key itself (secret).
 *
 * @since 0.2.0
 * @category models
 */
export type Entry = ServiceKey

/**
 * Reads a keytab's AES entries. Throws `KerberosFailure` (`MALFORMED`) when the bytes are not one.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decode = (bytes: Uint8Array): ReadonlyArray<Entry> => attempt("keytab", () => codec.parseKeytab(bytes))

/**
 * The keytab bytes (0x0502) for some entries: what `ktutil` would write.
 *
 * @since 0.2.0
 * @category encoding
 */
export const encode = (entries: ReadonlyArray<Entry>, timestampSeconds = 0): Uint8Array =>
  codec.writeKeytab(entries, timestampSeconds)

/**
 * The principals some entries hold keys for, each once (`HTTP/tpp.example.com@EXAMPLE.COM`).
 *
 * @since 0.2.0
 * @category getters
 */
export const principals = (
  entries: ReadonlyArray<Entry>
): ReadonlyArray<string> => [...new Set(entries.map((k) => principalText(k.principal, k.realm)))]

/**
 * Keys derived from a password for every supported enctype (salt: realm + name components, as MIT
 * and Active Directory use for service accounts, unless `salt` is given). PBKDF2 runs in WebCrypto.
 *
 * @since 0.2.0
 * @category constructors
 */
export const fromPassword = (
  principal: Principal,
  password: string,
  options: { readonly kvno?: number; readonly salt?: string } = {}
): Promise<ReadonlyArray<Entry>> => {
  const salt = new TextEncoder().encode(options.salt ?? principal.realm + principal.name.join(""))
  const secret = new TextEncoder().encode(password)
  return Promise.all(enctypes.map(async (e) => ({
    principal: {
      nameType: principal.name.length > 1 ? NameType.srvInst : NameType.principal,
      components: principal.name
    },
    realm: principal.realm,
    kvno: options.kvno ?? 1,
    key: { keytype: e.id, keyvalue: await e.stringToKey(secret, salt, e.defaultIterations) }
  })))
}
