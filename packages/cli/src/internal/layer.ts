import { NodeVedAuth } from "@vedauth/platform-node"
import { Effect, Option } from "effect"
import { AuthenticationFailed } from "@vedauth/core/VedAuthError"
import { passwordSource } from "./password.js"
import type { Selected } from "./selectors.js"

/**
 * The VedAuth layer a command runs on: Node transport, HTTP client and file token store, with the
 * password asked for only when an authorize needs it (a cached token needs none).
 * @internal
 */
export const vedAuthLayer = (selected: Selected) =>
  NodeVedAuth.layer({
    url: selected.url,
    clientId: selected.clientId,
    scope: selected.scope,
    ...(selected.username === undefined ? {} : { username: selected.username }),
    password: Effect.flatMap(
      passwordSource(selected),
      (source) =>
        source.pipe(
          Effect.mapError((error) => new AuthenticationFailed({ description: error.detail })),
          Effect.flatMap(Option.match({
            onSome: Effect.succeed,
            onNone: () =>
              new AuthenticationFailed({
                description: "no password: pass --password-stdin, set VEDAUTH_PASSWORD, or run on a terminal to be asked"
              })
          }))
        )
    ),
    ...(selected.caFile === undefined ? {} : { transport: { caFile: selected.caFile } }),
    ...(selected.store === undefined ? {} : { tokenStorePath: selected.store })
  })
