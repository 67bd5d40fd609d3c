import type { VedAuth } from "@vedauth/core"
import { AuthenticationFailed } from "@vedauth/core/VedAuthError"
import { NodeVedAuth } from "@vedauth/platform-node"
import { ConfigError, Effect, Layer, Option } from "effect"
import { UsageError } from "./errors.js"
import { passwordSource } from "./password.js"
import type { Selected } from "./spec.js"

const noPassword = new AuthenticationFailed({
  description: "no password: pass --password-stdin, set VEDAUTH_PASSWORD, or run on a terminal to be asked"
})

/**
 * The VedAuth layer a command runs on: Node transport, HTTP client and file token store, with the
 * password asked for only when an authorize needs it (a cached token needs none), and at most once.
 * @internal
 */
export const vedAuthLayer = (selected: Selected) =>
  Layer.unwrapEffect(
    Effect.map(passwordSource(selected), (source) =>
      NodeVedAuth.layer({
        url: selected.url,
        clientId: selected.clientId,
        scope: selected.scope,
        ...(selected.username === undefined ? {} : { username: selected.username }),
        password: source.pipe(
          Effect.mapError((error) => new AuthenticationFailed({ description: error.detail })),
          Effect.flatMap(Option.match({ onSome: Effect.succeed, onNone: () => Effect.fail(noPassword) }))
        ),
        ...(selected.caFile === undefined ? {} : { transport: { caFile: selected.caFile } }),
        ...(selected.store === undefined ? {} : { tokenStorePath: selected.store })
      }))
  )

/**
 * Runs a command's effect with its VedAuth layer.
 * @internal
 */
export const withVedAuth = <A, E>(selected: Selected, effect: Effect.Effect<A, E, VedAuth.VedAuth>) =>
  effect.pipe(
    Effect.provide(vedAuthLayer(selected)),
    // Only the default store path comes from configuration: no HOME or XDG_STATE_HOME to put it in.
    Effect.catchIf(ConfigError.isConfigError, (error) => Effect.fail(new UsageError({ detail: `${error}; pass --store FILE` })))
  )
