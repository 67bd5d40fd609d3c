/**
 * The proxy of a command (docs/proxies.md): `--proxy` else `VEDAUTH_PROXY`, `--no-proxy` else
 * `VEDAUTH_NO_PROXY`. Neither given: the library reads `HTTPS_PROXY`, `http_proxy` and `NO_PROXY` as
 * curl does. Never saved in a profile, so a proxy password is never written to disk.
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { UsageError } from "./errors.js"
import type { Env } from "./selection.js"
import { storeUrlHasPassword } from "./sharedStoreAddress.js"
import type { Flags } from "./spec.js"

/** What the layer's transport is given about the proxy. @internal */
export interface ProxyChoice {
  readonly proxy?: Redacted.Redacted<string>
  readonly noProxy?: string
}

const nonEmpty = (value: string | boolean | undefined): string | undefined =>
  typeof value === "string" && value.trim() !== "" ? value : undefined

/** curl reads a proxy without a scheme as http://: `user:secret@host:3128` carries a password too. @internal */
export const proxyHasPassword = (proxy: string): boolean =>
  storeUrlHasPassword(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`)

/** @internal */
export const proxyChoice = (flags: Flags, env: Env): Effect.Effect<ProxyChoice, UsageError> => {
  const flag = nonEmpty(flags.proxy)
  // Arguments are public on Unix (ps, /proc/PID/cmdline), as for --store: the password belongs in the environment.
  if (flag !== undefined && proxyHasPassword(flag)) {
    return Effect.fail(
      new UsageError({
        detail: "--proxy carries a password, which every local user can read in ps and /proc/PID/cmdline: " +
          "give the proxy URL in the environment variable HTTPS_PROXY or VEDAUTH_PROXY instead, which may carry it"
      })
    )
  }
  const proxy = flag ?? nonEmpty(env["VEDAUTH_PROXY"])
  const noProxy = nonEmpty(flags.noProxy) ?? nonEmpty(env["VEDAUTH_NO_PROXY"])
  return Effect.succeed({
    ...(proxy === undefined ? {} : { proxy: Redacted.make(proxy) }),
    ...(noProxy === undefined ? {} : { noProxy })
  })
}
