import { VedAuth } from "@vedauth/core"
import { Console, Effect, Redacted } from "effect"

/**
 * What `vedauth token` does, on both its lean path and the full CLI: the managed access token and a newline.
 * @internal
 */
export const printAccessToken = Effect.flatMap(VedAuth.accessToken, (token) => Console.log(Redacted.value(token)))
