import type * as VedAuth from "@vedauth/core/VedAuth"
import { AuthenticationFailed } from "@vedauth/core/VedAuthError"
import * as NodeVedAuth from "@vedauth/platform-node/NodeVedAuth"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { Target } from "./context.js"
import { grantOptions, grantTransport } from "./grant.js"
import type { GrantChoice } from "./grantChoice.js"
import type { KerberosTarget } from "./kerberos.js"
import { passwordSource } from "./password.js"
import type { ProxyChoice } from "./proxyChoice.js"
import { type SharedStore, vedAuthStoreOptions } from "./sharedStore.js"

const noPassword = new AuthenticationFailed({
  description: "no password: pass --password-stdin, set VEDAUTH_PASSWORD, or run on a terminal to be asked"
})

/** A command's target with its user resolved. @internal */
export interface Account {
  readonly url: string
  readonly clientId: string
  readonly scope: string
  readonly username: string | undefined
  readonly caFile: string | undefined
  readonly store: string
  readonly shared: SharedStore | undefined
  readonly passwordStdin: boolean
  readonly allowHttp: boolean
  readonly kerberos?: KerberosTarget
  /** The proxy settings given to the transport; absent: the library reads HTTPS_PROXY and NO_PROXY. */
  readonly proxy?: ProxyChoice
  /** Integrated when absent (revoking a stored grant needs no grant of its own). */
  readonly grant?: GrantChoice
}

/** @internal */
export const account = (target: Target, username: string | undefined, passwordStdin = false): Account => ({
  url: target.url,
  clientId: target.clientId,
  scope: target.scope,
  username,
  caFile: target.caFile,
  store: target.place.store,
  shared: target.place.shared,
  passwordStdin,
  allowHttp: target.allowHttp,
  kerberos: target.kerberos,
  grant: target.grant,
  proxy: target.proxy
})

/**
 * The VedAuth layer a command runs on: Node transport, HTTP client and file token store, with the
 * password asked for only when an authorize needs it (a cached token needs none), and at most once.
 * @internal
 */
export const vedAuthLayer = (selected: Account) =>
  Layer.unwrapEffect(
    Effect.map(passwordSource(selected), (source) =>
      NodeVedAuth.layer({
        url: selected.url,
        clientId: selected.clientId,
        scope: selected.scope,
        ...(selected.username === undefined ? {} : { username: selected.username }),
        // A keytab or the user's credential cache authorizes alone: no password is asked for.
        ...(selected.kerberos?.passwordFree === true ? {} : {
          password: source.pipe(
            Effect.mapError((error) => new AuthenticationFailed({ description: error.detail })),
            Effect.flatMap(Option.match({ onSome: Effect.succeed, onNone: () => Effect.fail(noPassword) }))
          )
        }),
        ...selected.kerberos?.options,
        transport: {
          ...(selected.caFile === undefined ? {} : { caFile: selected.caFile }),
          ...grantTransport(selected.grant),
          ...selected.proxy
        },
        ...grantOptions(selected.grant),
        ...vedAuthStoreOptions(selected),
        ...(selected.allowHttp ? { allowHttp: true } : {})
      }))
  )

/**
 * Runs a command's effect with its VedAuth layer.
 * @internal
 */
export const withVedAuth = <A, E>(selected: Account, effect: Effect.Effect<A, E, VedAuth.VedAuth>) =>
  Effect.provide(effect, vedAuthLayer(selected))
