/**
 * `SystemKerberos` over the `kerberos` addon (mongodb-js): the addon is an optional peer, loaded with
 * a dynamic `import()` on the first authorize that needs it, so that a program that never asks for
 * the system's tickets neither needs it installed nor pays for loading it.
 */
import type { Initiator } from "@vedauth/core/Kerberos"
import type * as SystemKerberos from "@vedauth/core/SystemKerberos"
import { KerberosError } from "@vedauth/core/VedAuthError"
import { Effect, Encoding, Ref } from "effect"

/** The part of the addon's API used here (kerberos 7), checked when it loads. */
export interface Addon {
  readonly initializeClient: (service: string, options: { readonly mechOID: number }) => Promise<Client>
  readonly GSS_MECH_OID_SPNEGO: number
}

interface Client {
  readonly step: (challenge: string) => Promise<string>
  readonly contextComplete: boolean
}

/** @internal */
export const installHint =
  "npm i kerberos@7; on Debian apt-get install libkrb5-dev g++ make python3 before installing it"

// The library's first line, which may quote a KDC's e-text: cut to 512 characters, as core cuts
// every server's and KDC's words in an error.
const maxText = 512
const reason = (cause: unknown): string => {
  const line = (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]!.trim()
  return line.length > maxText ? `${line.slice(0, maxText)}...[${line.length - maxText} more characters cut]` : line
}

// Deno loads the addon only with FFI allowed, and otherwise reports a missing build/Debug file.
const underDeno = "Deno" in globalThis

const unavailable = (detail: string) =>
  new KerberosError({
    reason: "SYSTEM_KERBEROS_UNAVAILABLE",
    detail,
    hint: underDeno ? `under Deno, run with --allow-ffi (or -A); else ${installHint}` : installHint
  })

const isAddon = (module: unknown): module is Addon => {
  const candidate = (module as { default?: unknown } | null)?.default ?? module
  return typeof (candidate as Partial<Addon> | null)?.initializeClient === "function" &&
    typeof (candidate as Partial<Addon>).GSS_MECH_OID_SPNEGO === "number"
}

/**
 * The addon, from `load` (a dynamic import). Not installed, a failed build (no `kerberos.node`),
 * a missing `libgssapi_krb5.so.2`, or a module of another shape: `SYSTEM_KERBEROS_UNAVAILABLE`.
 *
 * @internal
 */
export const loadAddon = (load: () => Promise<unknown>): Effect.Effect<Addon, KerberosError> =>
  Effect.tryPromise({
    try: load,
    catch: (cause) => unavailable(`the kerberos addon could not be loaded: ${reason(cause)}`)
  }).pipe(
    Effect.flatMap((module) =>
      isAddon(module)
        ? Effect.succeed(((module as { default?: Addon }).default ?? module) as Addon)
        : Effect.fail(unavailable("the module loaded as kerberos is not the kerberos addon (no initializeClient)"))
    )
  )

/**
 * GSS-API names the service `HTTP@host` (a host-based service; the realm comes from krb5.conf's
 * domain_realm); SSPI takes the SPN as it is.
 *
 * @internal
 */
export const serviceName = (spn: string, platform: string): string => {
  if (platform === "win32") return spn
  const withoutRealm = spn.split("@")[0]!
  const slash = withoutRealm.indexOf("/")
  return slash < 0 ? withoutRealm : `${withoutRealm.slice(0, slash)}@${withoutRealm.slice(slash + 1)}`
}

// GSS-API's messages (MIT's and Heimdal's wording), sorted into the names core's Kerberos uses, so
// that `negotiate` falls back to NTLM on the same "not possible here" outcomes.
const classify = (message: string): { readonly name: string; readonly hint?: string } => {
  if (
    /no (kerberos )?credentials|credentials cache .*not found|no credentials cache|ccache .*not found|expired|no such file/i
      .test(message)
  ) {
    return {
      name: "NO_CREDENTIALS",
      hint: "run kinit (or point KRB5_CLIENT_KTNAME at a client keytab); klist shows the credential cache in use"
    }
  }
  if (/cannot (contact|find) any kdc|cannot resolve .*kdc|kdc .*unreachable/i.test(message)) {
    return { name: "NO_KDC", hint: "check krb5.conf's [realms] (or DNS SRV records) for the realm's KDC" }
  }
  if (/server not found in kerberos database|principal unknown/i.test(message)) {
    return {
      name: "KDC_ERR_S_PRINCIPAL_UNKNOWN",
      hint: "the server's SPN is not registered; give the registered one as kerberos.spn"
    }
  }
  return { name: "GSS_FAILURE" }
}

const gssError = (what: string, cause: unknown, name?: string) => {
  const message = reason(cause)
  const classified = classify(message)
  return new KerberosError({
    reason: name ?? classified.name,
    detail: `${what}: ${message}`,
    ...(classified.hint === undefined || name !== undefined ? {} : { hint: classified.hint })
  })
}

const noAnswer = () =>
  new KerberosError({
    reason: "KRB_AP_ERR_MUT_FAIL",
    detail: "the server sent no Kerberos answer (AP-REP): it was not authenticated (mutual authentication)"
  })

const incomplete = () =>
  new KerberosError({
    reason: "KRB_AP_ERR_MUT_FAIL",
    detail:
      "the server's answer did not complete the Kerberos context: the server was not authenticated (mutual authentication)"
  })

/**
 * The service on a loaded-once addon: `addon` is run at most once (cached, failure included).
 *
 * @internal
 */
export const make = (addon: Effect.Effect<Addon, KerberosError>, platform: string = process.platform) =>
  Effect.gen(function*() {
    const loaded = yield* Effect.cached(addon)
    const warned = yield* Ref.make(false)
    // Once per layer: over TLS the token is not bound to the connection.
    const warnOverTls = (url: string) =>
      url.toLowerCase().startsWith("https:")
        ? Effect.flatMap(Ref.getAndSet(warned, true), (already) =>
          already
            ? Effect.void
            : Effect.logWarning(
              "vedauth: the system's Kerberos (kerberos addon) sends no TLS channel bindings; " +
                "a server with Extended Protection set to Require refuses it"
            ))
        : Effect.void

    const initiate = (target: SystemKerberos.Target): Effect.Effect<Initiator, KerberosError> =>
      Effect.gen(function*() {
        const kerberos = yield* loaded
        yield* warnOverTls(target.url)
        const service = serviceName(target.spn, platform)
        const client = yield* Effect.tryPromise({
          try: () => kerberos.initializeClient(service, { mechOID: kerberos.GSS_MECH_OID_SPNEGO }),
          catch: (cause) => gssError(`the system's Kerberos could not start a context for ${service}`, cause)
        })
        const first = yield* Effect.tryPromise({
          try: () => client.step(""),
          catch: (cause) => gssError(`the system's Kerberos made no token for ${service}`, cause)
        })
        const token = Encoding.decodeBase64(first)
        if (token._tag === "Left" || token.right.length === 0) {
          return yield* new KerberosError({
            reason: "GSS_FAILURE",
            detail: `the system's Kerberos made an empty token for ${service}`
          })
        }
        const complete = (serverToken: Uint8Array | undefined): Effect.Effect<void, KerberosError> =>
          serverToken === undefined
            ? Effect.fail(noAnswer())
            : Effect.tryPromise({
              try: () => client.step(Encoding.encodeBase64(serverToken)),
              catch: (cause) =>
                gssError(
                  `the system's Kerberos refused the server's answer for ${service}`,
                  cause,
                  "KRB_AP_ERR_MUT_FAIL"
                )
            }).pipe(Effect.filterOrFail(() => client.contextComplete, incomplete), Effect.asVoid)
        return { token: token.right, complete }
      })

    return { initiate, channelBindings: false } satisfies SystemKerberos.Service
  })
