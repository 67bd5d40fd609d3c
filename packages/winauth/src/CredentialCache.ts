/**
 * MIT `FILE:` credential caches, version 4 (0x0504, what `kinit` writes; version 3 is read too): the
 * default principal and its tickets. The bytes come from the caller (no file access): reading the
 * cache safely (whose it is, who can write it) is the driver's job.
 *
 * @since 0.2.0
 */
import { attempt } from "./internal/kerberos/attempt.js"
import * as codec from "./internal/kerberos/ccache.js"

/**
 * A cache's default principal and its credentials.
 *
 * @since 0.2.0
 * @category models
 */
export type CredentialCache = codec.CredentialCache

/**
 * Reads a cache. Throws `KerberosFailure` (`MALFORMED`) when the bytes are not one; `source` (a
 * path) names it in that failure.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decode = (bytes: Uint8Array, source?: string): CredentialCache =>
  attempt(source === undefined ? "credential cache" : `credential cache ${source}`, () => codec.parseCcache(bytes))

/**
 * The cache's bytes, as `kinit` writes them (version 4).
 *
 * @since 0.2.0
 * @category encoding
 */
export const encode = (cache: CredentialCache): Uint8Array => codec.writeCcache(cache)
