/**
 * Compare-and-set on a versioned map of records, shared by the memory and file stores so that both
 * follow the one contract. A store's `revision` counts its writes and each record carries the
 * revision that wrote it, so versions only grow, also across a removal (no ABA).
 * @internal
 */
import { Effect, Option } from "effect"
import type { Grant } from "../../Grant.js"
import type * as TokenStore from "../../TokenStore.js"

/** @internal */
export interface VersionedData<G> {
  readonly revision: number
  readonly records: Readonly<Record<string, { readonly version: number; readonly grant: G }>>
}

/** How a store turns its stored form into grants and back. @internal */
export interface Records<G, E> {
  readonly decode: (
    key: string,
    record: { readonly version: number; readonly grant: G }
  ) => Effect.Effect<TokenStore.Versioned, E>
  readonly encode: (grant: Grant) => Effect.Effect<G, E>
}

/**
 * The outcome of a compare-and-set on `data`, and the data to write (undefined: nothing changes).
 *
 * @internal
 */
export const compareAndSetIn = <G, E>(
  codec: Records<G, E>,
  data: VersionedData<G>,
  key: string,
  expected: Option.Option<TokenStore.Version>,
  next: Option.Option<Grant>
): Effect.Effect<{ readonly result: TokenStore.WriteResult; readonly write: VersionedData<G> | undefined }, E> =>
  Effect.gen(function*() {
    const stored = data.records[key]
    const version = stored === undefined ? undefined : String(stored.version)
    const matches = Option.getOrUndefined(expected) === version
    if (!matches) {
      const current = stored === undefined ? Option.none() : Option.some(yield* codec.decode(key, stored))
      return { result: { _tag: "Conflict", current }, write: undefined }
    }
    if (Option.isNone(next)) {
      if (stored === undefined) return { result: { _tag: "Written", current: Option.none() }, write: undefined }
      const { [key]: _removed, ...rest } = data.records
      return {
        result: { _tag: "Written", current: Option.none() },
        write: { revision: data.revision + 1, records: rest }
      }
    }
    const revision = data.revision + 1
    const grant = yield* codec.encode(next.value)
    return {
      result: { _tag: "Written", current: Option.some({ grant: next.value, version: String(revision) }) },
      write: { revision, records: { ...data.records, [key]: { version: revision, grant } } }
    }
  })
