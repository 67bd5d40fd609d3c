import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Layer, Option, Redacted, TestClock } from "effect"
import type * as Grant from "../src/Grant.js"
import * as TokenStore from "../src/TokenStore.js"
import * as VedAuth from "../src/VedAuth.js"
import { FakeServer, httpClientLayer, ntlmTransportLayer, ok, spentRefresh, url } from "./fixtures/fakeVedAuth.js"
import { environment, failingStore, key, options, setup } from "./fixtures/setup.js"

// With a one-hour token the refresh window is 5 minutes: due at 55 minutes.
const intoRefreshWindow = TestClock.adjust(Duration.minutes(56))

describe("VedAuth.accessToken (the managed token)", () => {
  it.effect("a fresh token is handed out without any request", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const first = yield* VedAuth.accessToken
      yield* TestClock.adjust(Duration.minutes(50))
      const second = yield* VedAuth.accessToken
      assert.strictEqual(Redacted.value(second), Redacted.value(first))
      assert.deepStrictEqual(server.counts, { authorize: 1, refresh: 0, verify: 0, revoke: 0, resource: 0 })
    }).pipe(Effect.provide(layer))
  })

  it.effect("1000 concurrent callers at the refresh point cause exactly one refresh", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const before = yield* VedAuth.accessToken
      yield* intoRefreshWindow
      const tokens = yield* Effect.all(Array.from({ length: 1000 }, () => VedAuth.accessToken), {
        concurrency: "unbounded"
      })
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(server.counts.authorize, 1)
      const distinct = new Set(tokens.map(Redacted.value))
      assert.strictEqual(distinct.size, 1)
      assert.notStrictEqual([...distinct][0], Redacted.value(before))
    }).pipe(Effect.provide(layer))
  })

  it.effect("the rotated pair is in the store before it is returned", () => {
    const { layer } = setup()
    return Effect.gen(function*() {
      yield* VedAuth.accessToken
      yield* intoRefreshWindow
      const token = yield* VedAuth.accessToken
      const stored = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.get(key))
      assert.isTrue(Option.isSome(stored))
      assert.strictEqual(Redacted.value(Option.getOrThrow(stored).accessToken), Redacted.value(token))
    }).pipe(Effect.provide(layer))
  })

  it.effect("a store that cannot save the new pair fails that call with TokenStoreError", () => {
    const failing = failingStore(true)
    const { layer, server } = setup(undefined, undefined, failing.layer)
    return Effect.gen(function*() {
      yield* VedAuth.accessToken
      yield* intoRefreshWindow
      failing.control.failSet = true
      const exit = yield* Effect.exit(VedAuth.accessToken)
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(exit), "TokenStoreError")
      assert.strictEqual(server.counts.refresh, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a store that cannot take the spent mark stops the refresh: the refresh token is never sent unmarked", () => {
    const failing = failingStore()
    const { layer, server } = setup(undefined, undefined, failing.layer)
    return Effect.gen(function*() {
      yield* VedAuth.accessToken
      yield* intoRefreshWindow
      failing.control.failSet = true
      const error = yield* Effect.flip(VedAuth.accessToken)
      assert.strictEqual(error._tag, "TokenStoreError")
      assert.strictEqual(server.counts.refresh, 0)
      // Once the store works again the refresh goes through, once.
      failing.control.failSet = false
      yield* VedAuth.accessToken
      assert.strictEqual(server.counts.refresh, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("the refresh token is marked spent in the store before it is sent; a lost answer means authorize, never a second send", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      yield* VedAuth.accessToken
      yield* intoRefreshWindow
      const store = yield* TokenStore.TokenStore
      const storedWhenSent: Array<Option.Option<Grant.Grant>> = []
      server.onRefresh = () => Effect.orDie(Effect.map(store.get(key), (stored) => void storedWhenSent.push(stored)))
      server.scripted.refresh.push({ status: 502, reason: "Bad Gateway", body: "" })
      assert.strictEqual((yield* Effect.flip(VedAuth.accessToken))._tag, "UnexpectedResponse")
      assert.strictEqual(storedWhenSent.length, 1)
      assert.isTrue(
        Option.exists(storedWhenSent[0]!, (grant) => Option.isNone(grant.refreshToken)),
        "marked before sending"
      )
      // The next call (this process or another) finds the mark and authorizes at once.
      yield* VedAuth.accessToken
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(server.counts.authorize, 2)
      assert.strictEqual(new Set(server.refreshBodies.map((body) => JSON.stringify(body))).size, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a spent refresh token leads to exactly one re-authorize", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      yield* VedAuth.accessToken
      yield* intoRefreshWindow
      server.scripted.refresh.push(spentRefresh)
      yield* Effect.all(Array.from({ length: 50 }, () => VedAuth.accessToken), { concurrency: "unbounded" })
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(server.counts.authorize, 2)
    }).pipe(Effect.provide(layer))
  })

  it.effect("VedAuth.refresh never retries a spent refresh token", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const grant = yield* VedAuth.grant
      yield* VedAuth.refresh(grant)
      const error = yield* Effect.flip(VedAuth.refresh(grant))
      assert.strictEqual(error._tag, "InvalidGrant")
      assert.strictEqual(server.counts.refresh, 2)
      if (error._tag === "InvalidGrant") {
        assert.strictEqual(error.description, "Grant has been revoked, has expired, or the refresh token is invalid")
        assert.strictEqual(error.status, 400)
      }
    }).pipe(Effect.provide(layer))
  })

  it.effect("refresh sends client_id and refresh_token only", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const grant = yield* VedAuth.grant
      yield* VedAuth.refresh(grant)
      assert.deepStrictEqual(server.refreshBodies, [{
        client_id: "vedauth-test",
        refresh_token: Redacted.value(Option.getOrThrow(grant.refreshToken))
      }])
    }).pipe(Effect.provide(layer))
  })

  it.effect("a grant past refresh_until is authorized again, without a refresh attempt", () => {
    const { layer, server } = setup((s) => {
      s.grantLifetime = 7200
    })
    return Effect.gen(function*() {
      const grant = yield* VedAuth.grant
      assert.isTrue(Option.isSome(grant.refreshUntil))
      yield* TestClock.adjust(Duration.seconds(7201))
      yield* VedAuth.accessToken
      assert.strictEqual(server.counts.authorize, 2)
      assert.strictEqual(server.counts.refresh, 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("refresh disabled: the token is used until expiry, then authorized again", () => {
    const { layer, server } = setup((s) => {
      s.refreshEnabled = false
    })
    return Effect.gen(function*() {
      const first = yield* VedAuth.accessToken
      yield* intoRefreshWindow
      assert.strictEqual(Redacted.value(yield* VedAuth.accessToken), Redacted.value(first))
      assert.strictEqual(server.counts.authorize, 1)
      yield* TestClock.adjust(Duration.minutes(4))
      const second = yield* VedAuth.accessToken
      assert.notStrictEqual(Redacted.value(second), Redacted.value(first))
      assert.strictEqual(server.counts.authorize, 2)
      assert.strictEqual(server.counts.refresh, 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a grant stored by someone else (another process) is used without any request", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const grant = yield* VedAuth.authorize()
      yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.set(key, grant))
      const token = yield* VedAuth.accessToken
      assert.strictEqual(Redacted.value(token), Redacted.value(grant.accessToken))
      assert.strictEqual(server.counts.authorize, 1)
    }).pipe(Effect.provide(layer))
  })
})

describe("VedAuth.authorize", () => {
  it.effect("posts client_id, scope and state, and returns the grant with absolute expiry", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      yield* TestClock.setTime(1_700_000_000_000)
      const grant = yield* VedAuth.authorize({ state: "s-1" })
      assert.deepStrictEqual(server.authorizeBodies, [{
        client_id: "vedauth-test",
        scope: "certificate:manage",
        state: "s-1"
      }])
      assert.strictEqual(grant.expiresAt.epochMillis, 1_700_000_000_000 + 3_600_000)
      assert.strictEqual(grant.scope, "certificate:manage")
    }).pipe(Effect.provide(layer))
  })

  it.effect("a response echoing a different state is refused", () => {
    const { layer } = setup((s) => {
      s.echoState = "forged"
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize({ state: "mine" }))
      assert.strictEqual(error._tag, "UnexpectedResponse")
      assert.include(error.message, "state")
    }).pipe(Effect.provide(layer))
  })

  it.effect("wrong Windows credentials fail with AuthenticationFailed", () => {
    const { layer } = setup(undefined, { password: Redacted.make("wrong") })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "AuthenticationFailed")
    }).pipe(Effect.provide(layer))
  })

  it.effect("no credentials configured: AuthenticationFailed that says what to set", () => {
    const { layer, server } = setup(undefined, { username: "" })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "VEDAUTH_USERNAME")
      assert.strictEqual(server.counts.authorize, 0)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a 200 whose body is not a grant is UnexpectedResponse, with no token echoed", () => {
    const { layer } = setup((s) => {
      s.scripted.authorize.push({ status: 200, reason: "OK", body: "{\"access_tok\":\"leaked-token==\"" })
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.authorize())
      assert.strictEqual(error._tag, "UnexpectedResponse")
      assert.notInclude(error.message, "leaked-token")
      assert.notInclude(JSON.stringify(error), "leaked-token")
    }).pipe(Effect.provide(layer))
  })
})

describe("VedAuth.verify, revoke, isAuthServer, session", () => {
  it.effect("verify returns TokenInfo; an unknown token is InvalidToken with the description", () => {
    const { layer } = setup()
    return Effect.gen(function*() {
      const token = yield* VedAuth.accessToken
      yield* TestClock.adjust(Duration.minutes(10))
      const info = yield* VedAuth.verify(token)
      assert.strictEqual(info.scope, "certificate:manage")
      assert.strictEqual(Duration.toSeconds(info.validFor), 3000)
      const error = yield* Effect.flip(VedAuth.verify(Redacted.make("nonsense==")))
      assert.strictEqual(error._tag, "InvalidToken")
      if (error._tag === "InvalidToken") assert.include(error.description ?? "", "expired, revoked, malformed")
    }).pipe(Effect.provide(layer))
  })

  it.effect("revoke: 200 is Revoked and removes the stored grant; 202 is NotFound; no token in the reason", () => {
    const { layer } = setup()
    return Effect.gen(function*() {
      const grant = yield* VedAuth.grant
      const first = yield* VedAuth.revoke(grant)
      assert.strictEqual(first._tag, "Revoked")
      const stored = yield* Effect.flatMap(TokenStore.TokenStore, (store) => store.get(key))
      assert.isTrue(Option.isNone(stored))
      const second = yield* VedAuth.revoke(grant.accessToken)
      assert.strictEqual(second._tag, "NotFound")
      assert.notInclude(second.reason, Redacted.value(grant.accessToken))
      assert.include(second.reason, "not found")
    }).pipe(Effect.provide(layer))
  })

  it.effect("isAuthServer recognises the server", () => {
    const { layer } = setup()
    return Effect.map(VedAuth.isAuthServer, (yes) => assert.isTrue(yes)).pipe(Effect.provide(layer))
  })

  it.effect("session revokes its grant when the scope closes", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const grant = yield* Effect.scoped(VedAuth.session)
      assert.strictEqual(server.counts.revoke, 1)
      const error = yield* Effect.flip(VedAuth.verify(grant.accessToken))
      assert.strictEqual(error._tag, "InvalidToken")
    }).pipe(Effect.provide(layer))
  })
})

describe("VedAuth.httpClient", () => {
  const resource = Effect.gen(function*() {
    const client = yield* VedAuth.httpClient
    return yield* Effect.scoped(client.execute(HttpClientRequest.get(`${url}/vedsdk/certificates/`)))
  })

  it.effect("adds the bearer token", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const response = yield* resource
      assert.strictEqual(response.status, 200)
      assert.strictEqual(server.counts.resource, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("on a 401 it renews once and retries once", () => {
    const { layer, server } = setup()
    return Effect.gen(function*() {
      const grant = yield* VedAuth.grant
      // Another process refreshed: our access token died with the rotation.
      server.access.get(Redacted.value(grant.accessToken))!.revoked = true
      const response = yield* resource
      assert.strictEqual(response.status, 200)
      assert.strictEqual(server.counts.refresh, 1)
      assert.strictEqual(server.counts.resource, 2)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a second 401 is InvalidToken, not a loop", () => {
    const { layer, server } = setup((s) => {
      s.scripted.resource.push({ status: 401, reason: "Unauthorized", body: "" }, {
        status: 401,
        reason: "Unauthorized",
        body: ""
      })
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(resource)
      assert.strictEqual(error._tag, "InvalidToken")
      assert.strictEqual(server.counts.resource, 2)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a 403 after a 401 and a retry echoes neither the old nor the renewed token", () => {
    // The fake issues access-1-... on authorize and access-2-... on the refresh after the 401.
    const echo = "for access-1-c2VjcmV0== and access-2-c2VjcmV0=="
    const { layer, server } = setup((s) => {
      s.scripted.resource.push(
        { status: 401, reason: "Unauthorized", body: "" },
        {
          status: 403,
          reason: `Forbidden ${echo}`,
          body: JSON.stringify({ error: `Grant rejected scope 'ssh:manage' ${echo}` })
        }
      )
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(resource)
      assert.strictEqual(error._tag, "InsufficientScope")
      assert.strictEqual(server.counts.refresh, 1)
      for (const text of [error.message, JSON.stringify(error), String(error)]) {
        assert.notInclude(text, "access-1-c2VjcmV0==")
        assert.notInclude(text, "access-2-c2VjcmV0==")
      }
    }).pipe(Effect.provide(layer))
  })

  it.effect("a 403 is InsufficientScope with the rejected scope parsed", () => {
    const { layer } = setup((s) => {
      s.resourceScope = "ssh:manage"
    })
    return Effect.gen(function*() {
      const error = yield* Effect.flip(resource)
      assert.strictEqual(error._tag, "InsufficientScope")
      if (error._tag === "InsufficientScope") assert.strictEqual(error.rejectedScope, "ssh:manage")
    }).pipe(Effect.provide(layer))
  })
})

describe("VedAuth layers and transport", () => {
  it.effect("layerConfig reads the VEDAUTH_* environment, the password redacted", () => {
    const server = new FakeServer()
    const layer = VedAuth.layerConfig().pipe(
      Layer.provide(Layer.mergeAll(httpClientLayer(server), ntlmTransportLayer(server), TokenStore.layerMemory)),
      Layer.provide(environment())
    )
    return Effect.gen(function*() {
      const service = yield* VedAuth.VedAuth
      assert.isTrue(Redacted.isRedacted(service.options.password))
      yield* VedAuth.accessToken
      assert.strictEqual(server.counts.authorize, 1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a network failure is TransportError", () => {
    const server = new FakeServer()
    const broken = Layer.succeed(
      HttpClient.HttpClient,
      HttpClient.make((request) =>
        Effect.fail(
          new HttpClientError.RequestError({ request, reason: "Transport", description: "connection refused" })
        )
      )
    )
    const layer = VedAuth.layer(options).pipe(
      Layer.provide(Layer.mergeAll(broken, ntlmTransportLayer(server), TokenStore.layerMemory))
    )
    return Effect.gen(function*() {
      const error = yield* Effect.flip(VedAuth.verify(Redacted.make("t==")))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "connection refused")
      assert.notInclude(error.message, "t==")
    }).pipe(Effect.provide(layer))
  })

  it.effect("older servers: a grant without expires_in, refresh_token or refresh_until still works", () => {
    const { layer } = setup((s) => {
      s.scripted.authorize.push(ok({ access_token: "old-server==", expires: 3600, scope: "certificate:manage" }))
    })
    return Effect.gen(function*() {
      const grant = yield* VedAuth.grant
      assert.strictEqual(grant.expiresAt.epochMillis, 3_600_000)
      assert.isTrue(Option.isNone(grant.refreshToken))
      assert.isTrue(Option.isNone(grant.refreshUntil))
    }).pipe(Effect.provide(layer))
  })
})
