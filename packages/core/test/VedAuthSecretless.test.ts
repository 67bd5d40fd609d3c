/**
 * Replicas that hold no secret (no password, keytab or cache) while another process renews the
 * shared grant: they wait for the store's lock and read the record again under it, or wait for the
 * peer that renews, and fail only when nothing can renew the grant. And a refresh whose request
 * never left (the server down) keeps the pair.
 */
import { HttpClient, HttpClientError } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Deferred, Duration, Effect, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import * as Grant from "../src/Grant.js"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { AuthenticationFailed } from "../src/VedAuthError.js"
import { FakeServer, httpClientLayer, ntlmTransportLayer } from "./fixtures/fakeVedAuth.js"
import { key, options } from "./fixtures/setup.js"

const { password: _password, ...withoutPassword } = options

/** A replica: no password at all, or (as the CLI has it) a password source that finds none. */
const replica = (server: FakeServer, password: "none" | "source finds none", asked = { count: 0 }) =>
  VedAuth.layer(
    password === "none" ? withoutPassword : {
      ...withoutPassword,
      password: Effect.suspend(() => {
        asked.count++
        return Effect.fail(new AuthenticationFailed({ description: "no password: pass --password-stdin" }))
      })
    }
  ).pipe(
    Layer.provideMerge(Layer.mergeAll(httpClientLayer(server), ntlmTransportLayer(server), TokenStore.layerMemory))
  )

const grant = (name: string, now: DateTime.Utc, overrides: Partial<Grant.Grant> = {}) =>
  new Grant.Grant({
    accessToken: Redacted.make(`access-${name}`),
    refreshToken: Option.some(Redacted.make(`refresh-${name}`)),
    tokenType: "Bearer",
    scope: "certificate:manage",
    identity: "local:{x}",
    issuedAt: now,
    expiresAt: DateTime.add(now, { hours: 1 }),
    refreshUntil: Option.none(),
    ...overrides
  })

// What a refresher leaves in the store while its refresh is on the wire: no refresh token, expired now.
const spentMark = (now: DateTime.Utc, expiredAgo: Duration.DurationInput = 0) =>
  grant("old", DateTime.subtract(now, { hours: 1 }), {
    refreshToken: Option.none(),
    expiresAt: DateTime.subtractDuration(now, Duration.decode(expiredAgo))
  })

const nothingSent = (server: FakeServer) =>
  assert.deepStrictEqual(server.counts, { authorize: 0, refresh: 0, verify: 0, revoke: 0, resource: 0 })

describe("a replica without a secret while a peer refreshes", () => {
  for (const password of ["none", "source finds none"] as const) {
    it.effect(`(${password}) waits for the peer that holds the store's lock and uses its new pair; no secret asked for`, () => {
      const server = new FakeServer()
      const asked = { count: 0 }
      return Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        const now = yield* DateTime.now
        const peerHasLock = yield* Deferred.make<void>()
        // The peer: takes the lock, marks the refresh token spent, and stores the new pair 1 s later.
        const peer = yield* Effect.fork(store.withLock(
          key,
          Effect.gen(function*() {
            yield* store.set(key, spentMark(now))
            yield* Deferred.succeed(peerHasLock, undefined)
            yield* Effect.sleep(Duration.seconds(1))
            yield* store.set(key, grant("new", yield* DateTime.now))
          })
        ))
        yield* Deferred.await(peerHasLock)
        const caller = yield* Effect.fork(VedAuth.accessToken)
        yield* TestClock.adjust(Duration.seconds(1))
        yield* Fiber.join(peer)
        const token = yield* Fiber.join(caller)
        assert.strictEqual(Redacted.value(token), "access-new")
        assert.strictEqual(asked.count, 0, "the password source was never asked")
        nothingSent(server)
      }).pipe(Effect.provide(replica(server, password, asked)))
    })

    it.effect(`(${password}) finds the mark of a refresher that died, and waits for the peer with the secret to authorize`, () => {
      const server = new FakeServer()
      return Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(key, spentMark(yield* DateTime.now))
        const caller = yield* Effect.fork(VedAuth.accessToken)
        yield* TestClock.adjust(Duration.seconds(5))
        assert.isNull(yield* Fiber.poll(caller).pipe(Effect.map(Option.getOrNull)), "still waiting for a peer")
        yield* store.set(key, grant("authorized-by-peer", yield* DateTime.now))
        yield* TestClock.adjust(Duration.seconds(1))
        assert.strictEqual(Redacted.value(yield* Fiber.join(caller)), "access-authorized-by-peer")
        nothingSent(server)
      }).pipe(Effect.provide(replica(server, password)))
    })

    it.effect(`(${password}) fails with the reason once no peer renewed within the bound`, () => {
      const server = new FakeServer()
      return Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        yield* store.set(key, spentMark(yield* DateTime.now))
        const caller = yield* Effect.fork(Effect.flip(VedAuth.accessToken))
        // The file lock's stale time plus one authorize (the request timeout).
        yield* TestClock.adjust(Duration.seconds(60))
        const error = yield* Fiber.join(caller)
        assert.strictEqual(error._tag, "AuthenticationFailed")
        assert.match(error.message, password === "none" ? /refresh token was spent/ : /no password/)
        nothingSent(server)
      }).pipe(Effect.provide(replica(server, password)))
    })
  }

  it.effect("a mark left long ago (no renewal under way): fails at once with the reason", () => {
    const server = new FakeServer()
    return Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      yield* store.set(key, spentMark(yield* DateTime.now, Duration.hours(2)))
      const error = yield* Effect.flip(VedAuth.accessToken)
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "refresh token was spent")
      nothingSent(server)
    }).pipe(Effect.provide(replica(server, "none")))
  })

  it.effect("a grant that can still be refreshed is refreshed by the replica itself: no secret needed", () => {
    const server = new FakeServer()
    return Effect.gen(function*() {
      const vedAuth = yield* VedAuth.VedAuth
      const store = yield* TokenStore.TokenStore
      // Authorize once as the process with the password would (the fake server knows it).
      const first = yield* Effect.provide(
        VedAuth.authorize(),
        VedAuth.layer(options).pipe(
          Layer.provide(Layer.mergeAll(httpClientLayer(server), ntlmTransportLayer(server), TokenStore.layerMemory))
        )
      )
      yield* store.set(key, new Grant.Grant({ ...first, expiresAt: yield* DateTime.now }))
      const token = yield* vedAuth.accessToken
      assert.notStrictEqual(Redacted.value(token), Redacted.value(first.accessToken))
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(server.counts.authorize, 1)
    }).pipe(Effect.provide(replica(server, "none")))
  })
})

/** The fake server behind an HTTP client that refuses connections while `down.now` is true. */
const downable = (server: FakeServer, down: { now: boolean }) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(Effect.provide(HttpClient.HttpClient, httpClientLayer(server)), (client) =>
      HttpClient.make((request) =>
        down.now
          ? Effect.fail(
            new HttpClientError.RequestError({
              request,
              reason: "Transport",
              cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" })
            })
          )
          : client.execute(request)
      ))
  )

describe("a refresh whose request never left", () => {
  it.effect("the server down during a refresh: the pair stays, and the next call refreshes it with no password", () => {
    const server = new FakeServer()
    const down = { now: false }
    const layer = VedAuth.layer(withoutPassword).pipe(
      Layer.provideMerge(Layer.mergeAll(downable(server, down), ntlmTransportLayer(server), TokenStore.layerMemory))
    )
    return Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const first = yield* Effect.provide(
        VedAuth.authorize(),
        VedAuth.layer(options).pipe(
          Layer.provide(Layer.mergeAll(httpClientLayer(server), ntlmTransportLayer(server), TokenStore.layerMemory))
        )
      )
      yield* store.set(key, first)
      down.now = true
      const error = yield* Effect.flip(VedAuth.refresh(first))
      assert.strictEqual(error._tag, "TransportError")
      assert.isTrue(error._tag === "TransportError" && error.requestSent === false)
      const kept = Option.getOrThrow(yield* store.get(key))
      assert.isTrue(Option.isSome(kept.refreshToken), "the refresh token was put back")
      assert.strictEqual(Redacted.value(kept.accessToken), Redacted.value(first.accessToken))
      down.now = false
      // Still fresh: handed out as it is, nothing asked of the server.
      assert.strictEqual(Redacted.value(yield* VedAuth.accessToken), Redacted.value(first.accessToken))
      assert.strictEqual(server.counts.refresh, 0)
      // Due now: refreshed with the refresh token that never left.
      yield* TestClock.adjust(Duration.hours(1))
      const renewed = yield* VedAuth.accessToken
      assert.notStrictEqual(Redacted.value(renewed), Redacted.value(first.accessToken))
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(server.counts.authorize, 1, "only the first authorize, by the process with the password")
    }).pipe(Effect.provide(layer))
  })
})
