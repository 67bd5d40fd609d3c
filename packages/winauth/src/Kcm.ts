/**
 * The KCM protocol (Heimdal's, as MIT's `cc_kcm.c` and sssd-kcm speak it), sans-I/O: the requests a
 * client sends to a KCM credential-cache daemon as bytes, and the daemon's replies decoded. The
 * caller carries them over the daemon's Unix socket (`[libdefaults] kcm_socket`, by default
 * `defaultSocket`), adding and reading the framing:
 *
 * - a request is a 4-byte big-endian length, then the bytes made here (version 2.0, a 2-byte
 *   opcode, the operation's data: cache names NUL-terminated, principals and credentials in the
 *   ccache version 4 encoding);
 * - a reply is a 4-byte big-endian length `n`, then `4 + n` bytes: a transport status, then the
 *   operation's status and its data. The decoders here take those `4 + n` bytes.
 *
 * Replies are bounded (`limits`): a reply that is too long, truncated, or has extra bytes throws
 * `KerberosFailure` `MALFORMED`; a daemon's non-zero status throws `KerberosFailure` `KCM_ERROR`
 * with the code (or `KCM_NO_CACHE` for a cache that does not exist).
 *
 * @since 0.2.0
 */
import { KerberosFailure } from "./Failure.js"
import { attempt } from "./internal/kerberos/attempt.js"
import { Reader, utf8 } from "./internal/kerberos/binary.js"
import * as ccache from "./internal/kerberos/ccache.js"
import { concat, Malformed } from "./internal/ntlm/bytes.js"
import type { Credential, Principal } from "./Kerberos.js"

/**
 * Where MIT and Heimdal look for the daemon when krb5.conf names no `kcm_socket`.
 *
 * @since 0.2.0
 * @category constants
 */
export const defaultSocket = "/var/run/.heim_org.h5l.kcm-socket"

/**
 * The opcodes used here (Heimdal's numbering, `kcm.h`).
 *
 * @since 0.2.0
 * @category constants
 */
export const opcodes = {
  GEN_NEW: 3,
  INITIALIZE: 4,
  STORE: 6,
  GET_PRINCIPAL: 8,
  GET_CRED_UUID_LIST: 9,
  GET_CRED_BY_UUID: 10,
  GET_DEFAULT_CACHE: 20,
  /** MIT's extension (sssd-kcm 2.5 and later): all of a cache's credentials in one reply. */
  GET_CRED_LIST: 13001
} as const

/**
 * The bounds kept: a reply's length (`4 + n` bytes; a ticket with a large PAC is tens of KiB), the
 * credentials listed in one cache, a cache name's bytes.
 *
 * @since 0.2.0
 * @category constants
 */
export const limits = { maxReplyBytes: 1024 * 1024, maxCredentials: 256, maxNameBytes: 1024 } as const

/** MIT's `KRB5_FCC_NOFILE` and `KRB5_CC_NOTFOUND`/`KRB5_CC_END`: no such cache, or an empty one. */
const noCacheCodes: ReadonlySet<number> = new Set([-1765328189, -1765328243, -1765328242])

const UUID_BYTES = 16

const request = (opcode: number, ...data: ReadonlyArray<Uint8Array>): Uint8Array =>
  concat(Uint8Array.of(2, 0, (opcode >>> 8) & 0xff, opcode & 0xff), ...data)

const nameBytes = (name: string): Uint8Array => {
  const bytes = utf8(name)
  if (bytes.includes(0) || bytes.length > limits.maxNameBytes) {
    throw new KerberosFailure({
      reason: "BAD_CACHE_NAME",
      detail: "a KCM cache name has no NUL byte and at most 1024 bytes"
    })
  }
  return concat(bytes, Uint8Array.of(0))
}

/**
 * `GET_DEFAULT_CACHE`: the name of the caller's primary cache (what `KCM:` alone means).
 *
 * @since 0.2.0
 * @category requests
 */
export const getDefaultCache = (): Uint8Array => request(opcodes.GET_DEFAULT_CACHE)

/**
 * `GET_PRINCIPAL`: a cache's default principal.
 *
 * @since 0.2.0
 * @category requests
 */
export const getPrincipal = (name: string): Uint8Array => request(opcodes.GET_PRINCIPAL, nameBytes(name))

/**
 * `GET_CRED_UUID_LIST`: the ids of a cache's credentials.
 *
 * @since 0.2.0
 * @category requests
 */
export const getCredUuidList = (name: string): Uint8Array => request(opcodes.GET_CRED_UUID_LIST, nameBytes(name))

/**
 * `GET_CRED_LIST`: all of a cache's credentials at once (MIT's extension; a daemon without it
 * refuses it or closes the connection, and `GET_CRED_UUID_LIST` is the way then).
 *
 * @since 0.2.0
 * @category requests
 */
export const getCredList = (name: string): Uint8Array => request(opcodes.GET_CRED_LIST, nameBytes(name))

/**
 * `GET_CRED_BY_UUID`: one credential by its id (16 bytes, from `decodeUuidList`).
 *
 * @since 0.2.0
 * @category requests
 */
export const getCredByUuid = (name: string, uuid: Uint8Array): Uint8Array => {
  if (uuid.length !== UUID_BYTES) {
    throw new KerberosFailure({ reason: "BAD_CACHE_NAME", detail: "a KCM credential id is 16 bytes" })
  }
  return request(opcodes.GET_CRED_BY_UUID, nameBytes(name), uuid)
}

/**
 * `STORE`: adds a credential to a cache (as `kvno` does after a TGS exchange).
 *
 * @since 0.2.0
 * @category requests
 */
export const store = (name: string, credential: Credential): Uint8Array =>
  request(opcodes.STORE, nameBytes(name), ccache.writeCredential(credential))

/**
 * `GEN_NEW`: a new, empty cache; the reply names it (`decodeName`).
 *
 * @since 0.2.0
 * @category requests
 */
export const genNew = (): Uint8Array => request(opcodes.GEN_NEW)

/**
 * `INITIALIZE`: empties a cache (creating it when needed) and sets its default principal.
 *
 * @since 0.2.0
 * @category requests
 */
export const initialize = (name: string, principal: Principal): Uint8Array =>
  request(
    opcodes.INITIALIZE,
    nameBytes(name),
    ccache.writePrincipal({ nameType: 1, components: principal.name }, principal.realm)
  )

/** The operation's data after both statuses, or the daemon's refusal. */
const body = (reply: Uint8Array, what: string): Reader => {
  if (reply.length > limits.maxReplyBytes) {
    throw new Malformed(`the reply is ${reply.length} bytes, over the ${limits.maxReplyBytes}-byte limit`)
  }
  const r = new Reader(reply, `the KCM reply to ${what}`)
  const codes = [r.i32(), r.i32()]
  const code = codes.find((c) => c !== 0)
  if (code !== undefined) {
    throw new KerberosFailure(
      noCacheCodes.has(code)
        ? {
          reason: "KCM_NO_CACHE",
          code,
          detail: `the KCM daemon has no such cache (${what})`,
          hint: "run kinit first"
        }
        : { reason: "KCM_ERROR", code, detail: `the KCM daemon refused ${what} with code ${code}` }
    )
  }
  return r
}

const done = <A>(r: Reader, value: A): A => {
  if (r.remaining !== 0) throw new Malformed(`${r.what} has ${r.remaining} bytes too many`)
  return value
}

const decoding = <A>(what: string, decode: () => A): A => attempt(`KCM reply to ${what}`, decode)

/**
 * The status-only reply (`STORE`, `INITIALIZE`).
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodeEmpty = (reply: Uint8Array, what = "the request"): void =>
  decoding(what, () => {
    body(reply, what)
  })

/**
 * A cache name (`GET_DEFAULT_CACHE`, `GEN_NEW`): NUL-terminated text.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodeName = (reply: Uint8Array): string =>
  decoding("GET_DEFAULT_CACHE", () => {
    const r = body(reply, "GET_DEFAULT_CACHE")
    const rest = r.bytesOf(r.remaining)
    const end = rest.indexOf(0)
    if (end < 0 || end !== rest.length - 1) throw new Malformed("the cache name is not one NUL-terminated text")
    if (end === 0 || end > limits.maxNameBytes) {
      throw new Malformed(`the cache name is empty or longer than ${limits.maxNameBytes} bytes`)
    }
    return new TextDecoder("utf-8", { fatal: true }).decode(rest.subarray(0, end))
  })

/**
 * A cache's default principal (`GET_PRINCIPAL`); `undefined` when the cache has none (Heimdal answers
 * an empty reply for a cache not initialized).
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodePrincipal = (reply: Uint8Array): Principal | undefined =>
  decoding("GET_PRINCIPAL", () => {
    const r = body(reply, "GET_PRINCIPAL")
    if (r.remaining === 0) return undefined
    const read = ccache.readPrincipal(r)
    return done(r, { name: read.principal.components, realm: read.realm })
  })

/**
 * The credentials' ids (`GET_CRED_UUID_LIST`), at most `limits.maxCredentials`.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodeUuidList = (reply: Uint8Array): ReadonlyArray<Uint8Array> =>
  decoding("GET_CRED_UUID_LIST", () => {
    const r = body(reply, "GET_CRED_UUID_LIST")
    if (r.remaining % UUID_BYTES !== 0) {
      throw new Malformed(`the id list is ${r.remaining} bytes, not a multiple of ${UUID_BYTES}`)
    }
    if (r.remaining / UUID_BYTES > limits.maxCredentials) {
      throw new Malformed(`the cache lists more than ${limits.maxCredentials} credentials`)
    }
    const ids: Array<Uint8Array> = []
    while (r.remaining > 0) ids.push(r.bytesOf(UUID_BYTES))
    return ids
  })

/**
 * One credential (`GET_CRED_BY_UUID`); `undefined` for a configuration entry (`X-CACHECONF:`) or a
 * user-to-user ticket, which a client passes over.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodeCredential = (reply: Uint8Array): Credential | undefined =>
  decoding("GET_CRED_BY_UUID", () => {
    const r = body(reply, "GET_CRED_BY_UUID")
    return done(r, ccache.readCredential(r))
  })

/**
 * All of a cache's credentials (`GET_CRED_LIST`: a count, then each credential behind its length),
 * at most `limits.maxCredentials`; configuration entries and user-to-user tickets are passed over.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodeCredList = (reply: Uint8Array): ReadonlyArray<Credential> =>
  decoding("GET_CRED_LIST", () => {
    const r = body(reply, "GET_CRED_LIST")
    const count = r.u32()
    if (count > limits.maxCredentials) {
      throw new Malformed(`the cache lists ${count} credentials, over ${limits.maxCredentials}`)
    }
    const credentials: Array<Credential> = []
    for (let i = 0; i < count; i++) {
      const one = new Reader(r.bytesOf(r.u32()), `credential ${i} of the KCM reply to GET_CRED_LIST`)
      const credential = done(one, ccache.readCredential(one))
      if (credential !== undefined) credentials.push(credential)
    }
    return done(r, credentials)
  })
