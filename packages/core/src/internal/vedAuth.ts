/**
 * The VedAuth service of one layer: the stateless flows (`./flows.ts`), the managed grant that
 * owns all state (`./managedGrant.ts`) and the bearer middleware (`./bearerClient.ts`), put together.
 */
import { HttpClient } from "@effect/platform"
import { Effect, Option, Redacted } from "effect"
import * as Credentials from "../Credentials.js"
import type * as Grant from "../Grant.js"
import { KcmTransport } from "../KcmTransport.js"
import { KdcTransport } from "../KdcTransport.js"
import { NtlmTransport } from "../NtlmTransport.js"
import { SystemKerberos } from "../SystemKerberos.js"
import * as TokenStore from "../TokenStore.js"
import { TokenStoreFiles } from "../TokenStoreFiles.js"
import type { AuthorizeRequest, Options, Service } from "../VedAuth.js"
import * as VedAuthError from "../VedAuthError.js"
import { withBearer } from "./bearerClient.js"
import * as DeviceMarker from "./deviceMarker.js"
import { makeFlows } from "./flows.js"
import * as http from "./http.js"
import * as KerberosTicket from "./kerberosTicket.js"
import * as ManagedGrant from "./managedGrant.js"

const refuse = (detail: string, url: string) =>
  Effect.fail(new VedAuthError.TransportError({ detail, url: http.safeUrl(url) }))

// 127.0.0.0/8, ::1 and localhost: plain HTTP there never leaves the machine.
const isLoopback = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

/**
 * Options the service cannot work with, refused before anything is built: a URL that does not
 * parse or is not http(s); one that carries a user name or password (`https://user:pw@host`),
 * which would put the password into logs, errors and the store's keys; plain `http://` to a host
 * other than loopback, which would send passwords and tokens in the clear, unless `allowHttp` (then
 * a warning).
 *
 * @internal
 */
export const checkOptions = (options: Options): Effect.Effect<void, VedAuthError.TransportError> => {
  if (http.hasUserinfo(options.url)) {
    return refuse(
      "the server URL carries a user name or password (user:password@host); refusing to use it: " +
        "give the URL without them, and the Windows credentials as username and password (VEDAUTH_USERNAME, VEDAUTH_PASSWORD)",
      options.url
    )
  }
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    return refuse("the server URL is not a valid URL (expected e.g. https://tpp.example.com)", options.url)
  }
  if (url.protocol === "https:") return Effect.void
  if (url.protocol !== "http:") return refuse(`the server URL must be https:// (not ${url.protocol}//)`, options.url)
  if (isLoopback(url.hostname)) return Effect.void
  if (options.allowHttp === true) {
    return Effect.logWarning(
      `vedauth: plain http:// to ${url.host}: passwords and tokens travel unencrypted (allowHttp is set)`
    )
  }
  return refuse(
    "plain http:// to a host other than loopback would send passwords and tokens unencrypted; use https://, " +
      "or opt in with allowHttp: true (VEDAUTH_ALLOW_HTTP=1)",
    options.url
  )
}

/**
 * The `user` of the store's key: the Windows user for the grants that send one (as before grants
 * were a choice, so stored grants stay found), else the grant's name, so that grants of different
 * kinds for the same integration and scope never overwrite each other.
 *
 * @internal
 */
export const storeUser = (options: Options, credentials: Credentials.Credentials): string =>
  Credentials.usesPassword(credentials) ? options.username ?? "" : `${Credentials.grantName(credentials)}:`

/**
 * Builds the service from options and the three services it talks through.
 *
 * @internal
 */
export const make = (options: Options) =>
  Effect.gen(function*() {
    yield* checkOptions(options)
    const ticketFor = KerberosTicket.make(
      options,
      yield* Effect.serviceOption(KdcTransport),
      yield* Effect.serviceOption(TokenStoreFiles),
      yield* Effect.serviceOption(SystemKerberos),
      yield* Effect.serviceOption(KcmTransport)
    )
    const flows = makeFlows(
      options,
      yield* HttpClient.HttpClient,
      yield* NtlmTransport,
      ticketFor,
      yield* Effect.serviceOption(TokenStoreFiles)
    )
    const store = yield* TokenStore.TokenStore
    const credentials = options.credentials ?? Credentials.integrated
    const key: TokenStore.Key = {
      server: flows.base,
      clientId: options.clientId,
      scope: options.scope,
      user: storeUser(options, credentials)
    }
    const managed = yield* ManagedGrant.make({
      options,
      store,
      key,
      layerScope: yield* Effect.scope,
      usesPassword: Credentials.usesPassword(credentials),
      authorize: (windows) => flows.authorize(windows),
      refresh: flows.refresh,
      device: flows.deviceSteps
    })

    const authorize = Effect.fn("VedAuth.authorize")(function*(request?: AuthorizeRequest) {
      return yield* flows.authorize(managed.credentials, request)
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
      // A device attempt's mark in the store is no grant to hand anyone.
      stored: Effect.map(store.get(key), Option.filter((grant) => DeviceMarker.fromGrant(grant) === undefined)),
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
