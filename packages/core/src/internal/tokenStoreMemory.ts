import { Effect, Option, Ref } from "effect"
import type { Grant } from "../Grant.js"
import type * as TokenStore from "../TokenStore.js"
import { keyString, parseKeyString } from "../TokenStore.js"

/**
 * A store that lives as long as its layer: grants in a map, one semaphore per key for the lock.
 *
 * @internal
 */
export const makeMemory: Effect.Effect<TokenStore.Service> = Effect.gen(function*() {
  const grants = yield* Ref.make(new Map<string, Grant>())
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
  return {
    get: (key) => Effect.map(Ref.get(grants), (map) => Option.fromNullable(map.get(keyString(key)))),
    list: Effect.map(Ref.get(grants), (map) =>
      Array.from(map, ([text, grant]) => Option.map(parseKeyString(text), (key) => ({ key, grant }))).flatMap((entry) =>
        Option.isSome(entry) ? [entry.value] : []
      )),
    set: (key, grant) => Ref.update(grants, (map) => new Map(map).set(keyString(key), grant)),
    remove: (key) =>
      Ref.update(grants, (map) => {
        const next = new Map(map)
        next.delete(keyString(key))
        return next
      }),
    withLock: (key, effect) => lockFor(key).withPermits(1)(effect)
  }
})
