/**
 * The VedAuth service of one layer: the stateless flows (`./flows.ts`), the managed grant that
 * owns all state (`./managedGrant.ts`) and the bearer middleware (`./bearerClient.ts`), put together.
 */
import { HttpClient } from "@effect/platform"
import { Effect, Redacted } from "effect"
import type * as Grant from "../Grant.js"
import { NtlmTransport } from "../NtlmTransport.js"
import * as TokenStore from "../TokenStore.js"
import type { AuthorizeRequest, Options, Service } from "../VedAuth.js"
import * as VedAuthError from "../VedAuthError.js"
import { withBearer } from "./bearerClient.js"
import { makeFlows } from "./flows.js"
import * as http from "./http.js"
import * as ManagedGrant from "./managedGrant.js"

/**
 * Options the service cannot work with, refused before anything is built. A URL that carries a
 * user name or password (`https://user:pw@host`) would put the password into logs, errors and the
 * store's keys.
 *
 * @internal
 */
export const checkOptions = (options: Options): Effect.Effect<void, VedAuthError.TransportError> =>
  http.hasUserinfo(options.url)
    ? Effect.fail(
      new VedAuthError.TransportError({
        detail: "the server URL carries a user name or password (user:password@host); refusing to use it: " +
          "give the URL without them, and the Windows credentials as username and password (VEDAUTH_USERNAME, VEDAUTH_PASSWORD)",
        url: http.safeUrl(options.url)
      })
    )
    : Effect.void

/**
 * Builds the service from options and the three services it talks through.
 *
 * @internal
 */
export const make = (options: Options) =>
  Effect.gen(function*() {
    yield* checkOptions(options)
    const flows = makeFlows(options, yield* HttpClient.HttpClient, yield* NtlmTransport)
    const store = yield* TokenStore.TokenStore
    const key: TokenStore.Key = { server: flows.base, clientId: options.clientId, scope: options.scope, user: options.username ?? "" }
    const managed = yield* ManagedGrant.make({
      options,
      store,
      key,
      layerScope: yield* Effect.scope,
      authorize: flows.authorize,
      refresh: flows.refresh
    })

    const authorize = Effect.fn("VedAuth.authorize")(function*(request?: AuthorizeRequest) {
      return yield* flows.authorize(yield* managed.credentials, request)
    })
    const revoke = Effect.fn("VedAuth.revoke")(function*(target: Grant.Grant | Redacted.Redacted<string>) {
      const result = yield* flows.revoke(target)
      // Either way the token is of no more use: forget it if it was the managed grant.
      yield* managed.revoked(Redacted.isRedacted(target) ? target : target.accessToken)
      return result
    })
    const service: Service = {
      options,
      authorize,
      stored: store.get(key),
      login: managed.login.pipe(Effect.withSpan("VedAuth.login")),
      refresh: Effect.fn("VedAuth.refresh")((grant: Grant.Grant) => managed.refresh(grant)),
      verify: Effect.fn("VedAuth.verify")((token: Redacted.Redacted<string>) => flows.verify(token)),
      revoke,
      isAuthServer: flows.isAuthServer.pipe(Effect.withSpan("VedAuth.isAuthServer")),
      grant: managed.grant,
      accessToken: Effect.map(managed.grant, (grant) => grant.accessToken),
      session: Effect.acquireRelease(authorize(), (grant) =>
        revoke(grant).pipe(
          Effect.catchAll((error) => Effect.logWarning("vedauth: could not revoke the session grant", error.message))
        )).pipe(Effect.withSpan("VedAuth.session")),
      httpClient: withBearer(managed)
    }
    return service
  })
