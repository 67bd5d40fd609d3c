/**
 * The Redis store: one hash per grant (`v` version, `g` grant, `k` key), a store-wide revision
 * counter for versions, compare-and-set and lock release as Lua scripts, a lock per key with an
 * owner token renewed while held, and a subscription that tells every replica when a record
 * changed, so reads are served from this process's memory until then.
 *
 * @internal
 */
import { Grant, LeaseLock, TokenStore, TokenStoreFormat, VedAuthError } from "@vedauth/core"
import { Clock, Duration, Effect, Either, Option, Redacted } from "effect"
import { Redis } from "ioredis"
import { aesGcm, type Cipher, plain } from "./cipher.js"
import { clientOptions, parseUrl } from "./connection.js"
import { makeRecords, maxRecordBytes } from "./records.js"
import * as scripts from "./scripts.js"

/** @internal */
export interface Settings {
  readonly url: Redacted.Redacted<string>
  readonly prefix: string
  readonly encryptionKey: Option.Option<Redacted.Redacted<string>>
  readonly ca: string | undefined
  readonly timeout: Duration.Duration
  readonly lockTtl: Duration.Duration
  readonly lockTimeout: Duration.Duration
  readonly pollInterval: Duration.Duration
}

const storeError = (detail: string) => new VedAuthError.TokenStoreError({ detail })
// ioredis messages name the host and port and the server's refusal, never the password.
const describe = (cause: unknown): string =>
  (cause instanceof Error ? cause.message : String(cause)).replace(/\s+/g, " ").slice(0, 200)

// Bounds of a listing (a store holds a grant per server, client, scope and user: a handful).
const maxScanRounds = 1_000
const maxListed = 10_000

type Call = <A>(what: string, f: () => Promise<A>) => Effect.Effect<A, VedAuthError.TokenStoreError>

const globEscape = (text: string) => text.replace(/[*?[\]\\]/g, "\\$&")

/**
 * The listing's keys: SCAN one batch per call (each bounded by `timeout`, interruptible between
 * batches), at most `maxScanRounds` batches and `maxListed` records, so a Redis whose cursor never
 * ends cannot keep us asking, nor fill memory.
 */
const scanKeys = (call: Call, client: Redis, prefix: string) =>
  Effect.gen(function*() {
    const keys = new Set<string>()
    let cursor = "0"
    for (let round = 0; round < maxScanRounds; round++) {
      const [next, batch] = yield* call("list", () =>
        client.scan(cursor, "MATCH", `${globEscape(prefix)}grant:*`, "COUNT", 200))
      for (const rk of batch) {
        keys.add(rk)
      }
      if (keys.size > maxListed) {
        return yield* storeError(`Redis lists more than ${maxListed} grants under ${prefix}; not read`)
      }
      if (next === "0") {
        return [...keys]
      }
      cursor = next
    }
    return yield* storeError(`Redis's listing of ${prefix}grant:* did not end after ${maxScanRounds} batches`)
  })

/**
 * One Redis key per grant as a `LeaseLock.Backend`: SET NX with an expiry (a holder that dies leaves
 * a lock that expires by itself), renewed and released by Lua scripts only by its owner, every
 * renewal writing a new value (`owner:time`) so a waiter can tell a live holder from a lock left
 * without an expiry.
 */
const redisLockBackend =
  (call: Call, client: Redis, prefix: string, where: string, ttlMillis: number) =>
  (lk: string): LeaseLock.Backend<string> => {
    const lockValue = (owner: string, now: number) => `${owner}:${now}`
    return {
      describe: `${prefix}lock:…`,
      hungHint: `is Redis at ${where} reachable?`,
      tryTake: (owner, now) =>
        Effect.flatMap(
          call("lock", () => client.set(lk, lockValue(owner, now), "PX", ttlMillis, "NX")),
          (
            answer
          ): Effect.Effect<Either.Either<string, Option.Option<LeaseLock.Holder>>, VedAuthError.TokenStoreError> =>
            answer === "OK"
              ? Effect.succeed(Either.right(owner))
              : Effect.map(
                call("lock", () => client.get(lk)),
                (text) => Either.left(Option.map(Option.fromNullable(text), (text) => ({ text })))
              )
        ),
      renew: (owner, _handle, now) =>
        Effect.map(
          call("lock renewal", () =>
            client.eval(scripts.renewLock, 1, lk, owner, lockValue(owner, now), String(ttlMillis))),
          (renewed) =>
            renewed === 1
        ),
      holds: (owner) =>
        Effect.map(call("lock", () => client.get(lk)), (text) => text !== null && text.startsWith(`${owner}:`)),
      release: (owner) => Effect.asVoid(call("lock release", () => client.eval(scripts.releaseLock, 1, lk, owner))),
      breakStale: (holder) => Effect.asVoid(call("lock", () => client.eval(scripts.breakLock, 1, lk, holder.text)))
    }
  }

/**
 * Records read or written here, by record key, served while the subscription is live. Every
 * notification bumps `epoch` (a read that started before one must not be remembered) and drops
 * the copy it names unless it already holds that version; a lost subscription drops every copy.
 */
const localCopies = (call: Call, subscriber: Redis, channel: string) =>
  Effect.gen(function*() {
    const copies = { known: new Map<string, Option.Option<TokenStore.Versioned>>(), epoch: 0, live: false }
    const invalidateAll = () => {
      copies.live = false
      copies.epoch++
      copies.known.clear()
    }
    subscriber.on("message", (_channel: string, message: string) => {
      const space = message.indexOf(" ")
      const version = message.slice(0, space)
      const changed = message.slice(space + 1)
      const mine = copies.known.get(changed)
      const same = mine !== undefined && (Option.isSome(mine) ? mine.value.version === version : version === "")
      if (!same) copies.known.delete(changed)
      copies.epoch++
    })
    for (const event of ["close", "reconnecting", "end"]) subscriber.on(event, invalidateAll)
    const subscribe = () =>
      subscriber.subscribe(channel).then(() => {
        copies.live = true
      }, invalidateAll)
    subscriber.on("ready", () => void subscribe())
    yield* call("subscribe", subscribe)
    return copies
  })

/** The two connections' factory and `call`: one Redis call as an effect, bounded by `timeout`. */
const connections = (settings: Settings, target: Exclude<ReturnType<typeof parseUrl>, string>) => {
  const timeoutMillis = Duration.toMillis(settings.timeout)
  const options = clientOptions(target, {
    ca: settings.ca,
    connectTimeoutMillis: timeoutMillis,
    commandTimeoutMillis: timeoutMillis
  })
  const where = `${target.tls ? "rediss" : "redis"}://${target.host}:${target.port}/${target.db}`

  /** One Redis call as an effect: any failure or a call longer than `timeout` is a `TokenStoreError`. */
  const call = <A>(what: string, f: () => Promise<A>): Effect.Effect<A, VedAuthError.TokenStoreError> =>
    Effect.tryPromise({ try: f, catch: (cause) => storeError(`Redis ${what} at ${where} failed: ${describe(cause)}`) })
      .pipe(
        Effect.timeoutFail({
          duration: settings.timeout,
          onTimeout: () => storeError(`Redis ${what} at ${where} took longer than ${Duration.format(settings.timeout)}`)
        })
      )

  const open = (role: string) =>
    Effect.acquireRelease(
      Effect.suspend(() => {
        const client = new Redis(options)
        // The socket's own error (refused, WRONGPASS, a certificate not trusted), which a failed
        // connect reports only as "Connection is closed".
        let lastError: unknown
        // Errors reach callers through their commands; the event only feeds the debug log.
        client.on("error", (error: unknown) => {
          lastError = error
          Effect.runFork(Effect.logDebug(`vedauth: Redis ${role} connection`, describe(error)))
        })
        const connect = () => client.connect().catch((cause: unknown) => Promise.reject(lastError ?? cause))
        return Effect.as(
          Effect.tapError(call("connect", connect), () => Effect.sync(() => client.disconnect())),
          client
        )
      }),
      (client) => Effect.promise(() => client.quit().catch(() => client.disconnect()))
    )
  return { call, open, where }
}

/**
 * Every record of the store. One record that cannot be read is reported and left out: the others
 * are still listed. When none opens, that is the error (most likely a wrong VEDAUTH_STORE_KEY), not
 * an empty store.
 */
const listRecords = <E1, E2 extends { readonly detail: string }>(
  scan: Effect.Effect<ReadonlyArray<string>, E1>,
  fetch: (rk: string) => Effect.Effect<ReadonlyArray<string>, E1>,
  decodeReply: (rk: string, parts: ReadonlyArray<string>) => Effect.Effect<Option.Option<TokenStore.Versioned>, E2>,
  prefix: string
) =>
  Effect.gen(function*() {
    const entries: Array<TokenStore.Entry> = []
    const unreadable: Array<E2> = []
    for (const rk of yield* scan) {
      const parts = yield* fetch(rk)
      const key = TokenStoreFormat.parseKey(parts[2] || rk.slice(`${prefix}grant:`.length))
      const record = yield* Effect.either(decodeReply(rk, parts))
      if (record._tag === "Left") unreadable.push(record.left)
      else if (key !== undefined && Option.isSome(record.right)) entries.push({ key, ...record.right.value })
    }
    if (entries.length === 0 && unreadable[0] !== undefined) return yield* Effect.fail(unreadable[0])
    for (const error of unreadable) {
      yield* Effect.logWarning("vedauth: a record in the token store was left out of the listing", error.detail)
    }
    return entries as ReadonlyArray<TokenStore.Entry>
  })

/** @internal */
export const make = (settings: Settings) =>
  Effect.gen(function*() {
    const target = parseUrl(settings.url)
    if (typeof target === "string") return yield* storeError(target)
    const cipher: Cipher = Option.isSome(settings.encryptionKey)
      ? yield* Effect.mapError(aesGcm(settings.encryptionKey.value), storeError)
      : plain
    const { call, open, where } = connections(settings, target)
    const client = yield* open("command")
    const subscriber = yield* open("subscriber")

    const recordKey = (key: TokenStore.Key) => `${settings.prefix}grant:${TokenStore.keyString(key)}`
    const lockKey = (key: TokenStore.Key) => `${settings.prefix}lock:${TokenStore.keyString(key)}`
    const revisionKey = `${settings.prefix}revision`
    const channel = `${settings.prefix}changes`

    // This process's copy of the records, kept true by the change notifications.
    const copies = yield* localCopies(call, subscriber, channel)

    // --- records ---------------------------------------------------------------------------------

    const records = makeRecords(cipher, settings.prefix)
    /** One record as Redis holds it, read with its size checked first (see `scripts.readRecord`). */
    const fetch = (rk: string) =>
      Effect.flatMap(call("read", () => client.eval(scripts.readRecord, 1, rk, String(maxRecordBytes))), (reply) =>
        Array.isArray(reply)
          ? Effect.succeed(reply.map((part) => (part === null ? "" : String(part))))
          : Effect.fail(storeError("Redis answered a read with something else")))
    const decodeReply = (rk: string, parts: ReadonlyArray<string>) => {
      const [version = "", payload = "", , size] = parts
      if (size !== undefined && size !== "") {
        return Effect.fail(records.tooLarge(Number(size)))
      }
      return version === "" || payload === ""
        ? Effect.succeedNone
        : Effect.map(records.decode(rk, version, payload), Option.some)
    }

    const read = (key: TokenStore.Key) =>
      Effect.suspend(() => {
        const rk = recordKey(key)
        const mine = copies.known.get(rk)
        if (copies.live && mine !== undefined) {
          return Effect.succeed(mine)
        }
        const before = copies.epoch
        return fetch(rk).pipe(
          Effect.flatMap((parts) =>
            decodeReply(rk, parts)
          ),
          Effect.tap((record) =>
            Effect.sync(() => {
              if (copies.live && copies.epoch === before) copies.known.set(rk, record)
            })
          )
        )
      })

    // The record lives until the grant can no longer be refreshed (`refresh_until`, else the access
    // token's expiry), and at least a minute, so that a writer can still read back what it wrote.
    const expiryOf = (grant: Grant.Grant, now: number) => {
      const end = Option.getOrElse(grant.refreshUntil, () => grant.expiresAt).epochMillis
      return Math.max(end, now + 60_000)
    }

    const compareAndSet = (
      key: TokenStore.Key,
      expected: Option.Option<TokenStore.Version>,
      next: Option.Option<Grant.Grant>
    ) =>
      Effect.gen(function*() {
        const rk = recordKey(key)
        const now = yield* Clock.currentTimeMillis
        // The revision as seen now: every version this writer has seen is at most this (see records.ts).
        const seq = Option.isSome(next) ? Number((yield* call("revision", () => client.get(revisionKey))) ?? 0) : 0
        const payload = Option.isSome(next) ? yield* records.encode(rk, next.value, seq) : ""
        const expiry = Option.isSome(next) ? expiryOf(next.value, now) : now
        const before = copies.epoch
        const reply = yield* call("compare-and-set", () =>
          client.eval(
            scripts.compareAndSet,
            2,
            rk,
            revisionKey,
            Option.getOrElse(expected, () => ""),
            payload,
            String(expiry),
            channel,
            TokenStore.keyString(key),
            String(maxRecordBytes)
          ))
        if (!Array.isArray(reply) || typeof reply[0] !== "number") {
          return yield* storeError("Redis answered the compare-and-set with something else")
        }
        if (reply[0] === 1) {
          const version = String(reply[1] ?? "")
          if (Option.isSome(next)) records.written(rk, seq)
          const current: Option.Option<TokenStore.Versioned> = Option.isSome(next) && version !== ""
            ? Option.some({ grant: next.value, version })
            : Option.none()
          // A notification came in between: what we know may be older than this write, or newer.
          if (copies.live && copies.epoch === before) copies.known.set(rk, current)
          else copies.known.delete(rk)
          return { _tag: "Written", current } as TokenStore.WriteResult
        }
        copies.known.delete(rk)
        // {0, version, payload} or, for a payload over the cap, {0, version, '', size}.
        const [, theirVersion, theirPayload, size] = reply as Array<unknown>
        const current = yield* decodeReply(rk, [
          String(theirVersion ?? ""),
          String(theirPayload ?? ""),
          "",
          ...(size === undefined ? [] : [String(size)])
        ])
        return { _tag: "Conflict", current } as TokenStore.WriteResult
      })

    const scan = scanKeys(call, client, settings.prefix)
    const list = listRecords(scan, fetch, decodeReply, settings.prefix)

    // --- the lock: core's lease lock over one Redis key per grant -----------------------------

    const ttlMillis = Math.max(1, Math.round(Duration.toMillis(settings.lockTtl)))
    const lockBackend = redisLockBackend(call, client, settings.prefix, where, ttlMillis)
    const lockFor = LeaseLock.keyed(lockBackend, {
      // A lock left without an expiry (or whose holder stopped renewing) is broken after one TTL unchanged.
      staleAfter: Duration.millis(ttlMillis),
      timeout: settings.lockTimeout,
      pollInterval: settings.pollInterval,
      ioTimeout: settings.timeout
    })
    // The last holder wrote, then let go; its notification travels on another connection and may
    // arrive after we took the lock. Under the lock, reads must see that write: forget our copy
    // (and any read in flight) so the next read asks Redis, on the connection that took the lock.
    const forgetUnderLock = (key: TokenStore.Key) =>
      Effect.sync(() => {
        copies.known.delete(recordKey(key))
        copies.epoch++
      })
    const withLock = <A, E, R>(key: TokenStore.Key, effect: Effect.Effect<A, E, R>) =>
      lockFor(lockKey(key)).withLock(Effect.zipRight(forgetUnderLock(key), effect))

    return TokenStore.make({ read, compareAndSet, list, withLock })
  })
