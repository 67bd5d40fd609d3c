/**
 * What a record's `g` field holds, and the checks a replica makes on what it reads there, since
 * Redis may be hostile: a size cap (a record is read only after Redis said how long it is), and a
 * rollback check. Each write seals, with the grant, the store's revision counter as the writer saw
 * it just before writing (`seq`): every version Redis assigned before that write is at most `seq`,
 * and every record written after a replica saw version V carries a `seq` of at least V. So a
 * replica that has seen a record with `seq` S and then reads one with a smaller `seq` is reading an
 * older record put back (a rollback): it refuses it rather than serve a revoked access token or
 * send a spent refresh token.
 *
 * What it cannot tell: a rollback to a record this replica never saw superseded (a replica started
 * after the newer record was replaced by the older one), and, without `VEDAUTH_STORE_KEY`, any
 * record anyone with write access to Redis wrote (plain records are trusted as they are).
 *
 * @internal
 */
import { Grant, type TokenStore, VedAuthError } from "@vedauth/core"
import { Effect, Schema } from "effect"
import type { Cipher } from "./cipher.js"

/** The largest `g` field read (a sealed grant is about 1 KiB). @internal */
export const maxRecordBytes = 64 * 1024

const decodeGrant = Schema.decodeUnknown(Grant.Grant)
const encodeGrant = Schema.encode(Grant.Grant)

const storeError = (detail: string) => new VedAuthError.TokenStoreError({ detail })

const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

// `{ seq, grant }`; a record written before the envelope is the grant's JSON alone (seq 0).
const unwrap = (text: string): { readonly seq: number; readonly grant: unknown } | undefined => {
  const json = parseJson(text)
  if (typeof json !== "object" || json === null) return undefined
  const envelope = json as { readonly seq?: unknown; readonly grant?: unknown }
  return typeof envelope.seq === "number" && Number.isSafeInteger(envelope.seq) && typeof envelope.grant === "object"
    ? { seq: envelope.seq, grant: envelope.grant }
    : { seq: 0, grant: json }
}

/** @internal */
export const makeRecords = (cipher: Cipher, prefix: string) => {
  // The highest `seq` seen per record key, from records read or written by this replica.
  const highest = new Map<string, number>()
  const where = `${prefix}grant:…`
  const note = (rk: string, seq: number) => highest.set(rk, Math.max(seq, highest.get(rk) ?? 0))

  const encode = (rk: string, grant: Grant.Grant, seq: number) =>
    encodeGrant(grant).pipe(
      Effect.mapError(() => storeError("the grant cannot be encoded for the token store")),
      Effect.flatMap((encoded) => Effect.mapError(cipher.seal(rk, JSON.stringify({ seq, grant: encoded })), storeError))
    )
  /** A record this replica wrote (only once written: a refused write's `seq` was never stored). */
  const written = (rk: string, seq: number) => note(rk, seq)

  const decode = (
    rk: string,
    version: string,
    payload: string
  ): Effect.Effect<TokenStore.Versioned, VedAuthError.TokenStoreError> =>
    cipher.open(rk, payload).pipe(
      Effect.flatMap((text) => {
        const envelope = unwrap(text)
        return envelope === undefined
          ? Effect.fail("it does not decode as a grant")
          : Effect.mapError(Effect.map(decodeGrant(envelope.grant), (grant) => ({ grant, seq: envelope.seq })), () =>
            "it does not decode as a grant")
      }),
      Effect.flatMap(({ grant, seq }) => {
        const seen = highest.get(rk) ?? 0
        if (seq < seen) {
          return Effect.fail(`it is older than a record this replica has already seen there (rolled back?); not used`)
        }
        note(rk, seq)
        return Effect.succeed({ grant, version })
      }),
      Effect.mapError((why) =>
        storeError(`the record at ${where} cannot be read: ${why}`)
      )
    )

  /** A record Redis reported as over `maxRecordBytes`, without sending it. */
  const tooLarge = (bytes: number) =>
    storeError(`the record at ${where} is ${bytes} bytes, over the ${maxRecordBytes} a grant can take; not read`)

  return { encode, written, decode, tooLarge }
}
