import { HttpClient } from "@effect/platform"
import { Effect, Option, type Redacted, Ref } from "effect"
import { NtlmTransport } from "../NtlmTransport.js"
import { TokenStore } from "../TokenStore.js"
import type { Options, Service } from "../VedAuth.js"
import * as http from "./http.js"
import { makeAuthorize } from "./vedAuth/authorize.js"
import { makeCache } from "./vedAuth/cache.js"
import { makeFlows } from "./vedAuth/flows.js"
import { makeWithAuthorization } from "./vedAuth/httpClient.js"
import { makeManagedGrant } from "./vedAuth/managed.js"
import { makePassword } from "./vedAuth/password.js"
import { refusedService } from "./vedAuth/refused.js"
import { makeRenewal } from "./vedAuth/renewal.js"
import { makeRequests } from "./vedAuth/request.js"
import { server } from "./vedAuth/server.js"
import { makeSingleFlight } from "./vedAuth/singleFlight.js"

export { cacheCheckMillis } from "./vedAuth/cache.js"
export { defaultRequestTimeout } from "./vedAuth/request.js"

/**
 * Builds the service from options and the three services it talks through, out of the parts in
 * `./vedAuth/`: each gets what it shares with the others passed in explicitly.
 *
 * @internal
 */
export const make = (options: Options) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const transport = yield* NtlmTransport
    const store = yield* TokenStore
    // The layer's scope: renewals run in it, so closing the layer interrupts them (and frees the lock).
    const layerScope = yield* Effect.scope
    if (http.hasUserinfo(options.url)) return refusedService(options, store)
    const target = server(options, options.url)
    const { key } = target
    const { send, withTimeout } = makeRequests(client, options)

    const cache = yield* makeCache({ store, key, refreshWindow: options.refreshWindow })
    const forgetCached = Ref.set(cache.ref, Option.none())
    const password = yield* makePassword(options.password)
    const singleFlight = yield* makeSingleFlight(layerScope)

    const authorize = makeAuthorize({ options, transport, server: target, withTimeout, password })
    const { exchange, isAuthServer, revoke, verify } = makeFlows({ options, server: target, store, send, forgetCached })
    const authorizeAndStore = Effect.flatMap(authorize(), cache.storeAndRemember)
    const { refresh, renew } = yield* makeRenewal({ store, key, cache, password, exchange, authorizeAndStore })
    // Both the managed grant and the bearer middleware renew through the one flight in progress.
    const renewShared = (rejected: Option.Option<Redacted.Redacted<string>>) => singleFlight(renew(rejected))
    const managedGrant = makeManagedGrant({ store, key, cache, renewStale: renewShared(Option.none()) })

    const session = Effect.acquireRelease(authorize(), (grant) =>
      revoke(grant).pipe(
        Effect.catchAll((error) => Effect.logWarning("vedauth: could not revoke the session grant", error.message))
      )).pipe(Effect.withSpan("VedAuth.session"))

    const service: Service = {
      options,
      authorize,
      stored: store.get(key),
      // The password first: a prompt must not run while holding the store's lock.
      login: Effect.zipRight(password.resolve, store.withLock(key, authorizeAndStore)).pipe(Effect.withSpan("VedAuth.login")),
      refresh,
      verify,
      revoke,
      isAuthServer: isAuthServer(),
      grant: managedGrant,
      accessToken: Effect.map(managedGrant, (grant) => grant.accessToken),
      session,
      httpClient: makeWithAuthorization({
        managedGrant,
        forgetCached,
        renewRejected: (token) => renewShared(Option.some(token))
      })
    }
    return service
  })
