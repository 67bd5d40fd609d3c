/**
 * `SystemKerberos` over the optional `kerberos` addon (mongodb-js, 7.x): the operating system's own
 * tickets, no password. GSS-API on Linux and macOS (the default credential cache, whatever its type:
 * `FILE:`, `KCM:`, `KEYRING:`, `DIR:`; or the client keytab `KRB5_CLIENT_KTNAME`, which MIT Kerberos
 * renews from), SSPI with the logged-on user on Windows. `NodeVedAuth` includes this layer; an
 * authorize uses it with `kerberos: { system: true }`.
 *
 * The addon is an optional peer dependency, loaded on the first authorize that needs it. When it
 * cannot be loaded (not installed, its native build failed, no `libgssapi_krb5.so.2`) that
 * authorize fails with `KerberosError` `SYSTEM_KERBEROS_UNAVAILABLE` and how to install it. It sends
 * no TLS channel bindings: over HTTPS it logs a warning once, and a server with Extended Protection
 * set to Require refuses it (see docs/kerberos.md). Deno needs `--allow-ffi` for it.
 *
 * @since 0.2.0
 */
import { SystemKerberos } from "@vedauth/core/SystemKerberos"
import { Layer } from "effect"
import * as internal from "./internal/systemKerberos.js"

// A variable, not a literal: bundlers and type checkers leave the optional peer alone.
const addonModule: string = "kerberos"

/**
 * The system's Kerberos through the `kerberos` addon, loaded once, on first use.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<SystemKerberos> = Layer.effect(
  SystemKerberos,
  internal.make(internal.loadAddon(() => import(addonModule)))
)
