import { HttpClient } from "@effect/platform"
import { Effect } from "effect"
import type * as TokenStore from "../../TokenStore.js"
import type { Options, Service } from "../../VedAuth.js"
import * as VedAuthError from "../../VedAuthError.js"
import * as http from "../http.js"
import { server } from "./server.js"

/**
 * The service for a URL that carries a user name or password (`https://user:pw@host`): such a URL
 * would put the password into logs, errors and the store's keys, so every operation refuses it
 * with a `TransportError` that says what to do (the layer has no error channel to report it in).
 *
 * @internal
 */
export const refusedService = (options: Options, store: TokenStore.Service): Service => {
  const url = http.safeUrl(options.url)
  const refused = new VedAuthError.TransportError({
    detail: "the server URL carries a user name or password (user:password@host); refusing to use it: " +
      "give the URL without them, and the Windows credentials as username and password (VEDAUTH_USERNAME, VEDAUTH_PASSWORD)",
    url
  })
  const fail = Effect.fail(refused)
  return {
    options: { ...options, url },
    authorize: () => fail,
    refresh: () => fail,
    verify: () => fail,
    revoke: () => fail,
    isAuthServer: fail,
    stored: store.get(server(options, url).key),
    login: fail,
    grant: fail,
    accessToken: fail,
    session: fail,
    httpClient: <E, R>(_client: HttpClient.HttpClient.With<E, R>) =>
      HttpClient.makeWith<never, never, E | VedAuthError.VedAuthError, R>(() => fail, Effect.succeed)
  }
}
