import { Effect, Option, Ref } from "effect"
import type { Grant } from "../Grant.js"
import type * as TokenStore from "../TokenStore.js"
import { keyString, make as makeStore } from "../TokenStore.js"
import { parseKey } from "../TokenStoreFormat.js"
import { compareAndSetIn, type Records, type VersionedData } from "./tokenStore/versioned.js"

const records: Records<Grant, never> = {
  decode: (_key, record) => Effect.succeed({ grant: record.grant, version: String(record.version) }),
  encode: Effect.succeed
}

/**
 * A store that lives as long as its layer: versioned grants in one `Ref` (a compare-and-set is one
 * atomic `Ref.modify`), one semaphore per key for the lock.
 *
 * @internal
 */
export const makeMemory: Effect.Effect<TokenStore.Service> = Effect.gen(function*() {
  const state = yield* Ref.make<VersionedData<Grant>>({ revision: 0, records: {} })
  const locks = new Map<string, Effect.Semaphore>()
  const lockFor = (key: TokenStore.Key): Effect.Semaphore => {
    const name = keyString(key)
    let semaphore = locks.get(name)
    if (semaphore === undefined) {
      semaphore = Effect.unsafeMakeSemaphore(1)
      locks.set(name, semaphore)
    }
    return semaphore
  }
  const compareAndSet = (
    key: TokenStore.Key,
    expected: Option.Option<TokenStore.Version>,
    next: Option.Option<Grant>
  ) =>
    Ref.modify(state, (data) => {
      // The codec never fails and never waits: the whole step runs synchronously inside modify.
      const { result, write } = Effect.runSync(compareAndSetIn(records, data, keyString(key), expected, next))
      return [result, write ?? data]
    })
  const read = (key: TokenStore.Key) =>
    Effect.map(Ref.get(state), (data) => {
      const record = data.records[keyString(key)]
      return record === undefined
        ? Option.none()
        : Option.some({ grant: record.grant, version: String(record.version) })
    })
  return makeStore({
    read,
    compareAndSet,
    list: Effect.map(Ref.get(state), (data) =>
      Object.entries(data.records).flatMap(([text, record]) => {
        const key = parseKey(text)
        return key === undefined ? [] : [{ key, grant: record.grant, version: String(record.version) }]
      })),
    withLock: (key, effect) => lockFor(key).withPermits(1)(effect)
  })
})
