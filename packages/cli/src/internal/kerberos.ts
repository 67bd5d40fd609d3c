/**
 * The Kerberos side of a command: `--mechanism`, `--realm`, `--kdc`, `--spn`, `--keytab` (each from
 * its flag, else its variable, else the profile), MIT's `KRB5_CLIENT_KTNAME` and `KRB5CCNAME`, read
 * by core's one parser (`VedAuth.kerberosFromText`, as `VedAuth.config` reads them); whose key the
 * keytab or credential cache holds, and so whether an authorize needs a password at all.
 * @internal
 */
import * as Kerberos from "@vedauth/core/Kerberos"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as NodeKcmTransport from "@vedauth/platform-node/NodeKcmTransport"
import * as NodeTokenStoreFiles from "@vedauth/platform-node/NodeTokenStoreFiles"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { resolve as resolvePath } from "node:path"
import { UsageError } from "./errors.js"
import { type KerberosProfileKey, kerberosSelectorKeys } from "./kerberosKeys.js"
import type { Profile } from "./profiles.js"
import { type Env, explicitSelector, type Selected } from "./selection.js"
import type { Flags } from "./spec.js"
import { didYouMean } from "./suggest.js"
import { safeText } from "./terminalText.js"

/** How a command authenticates with Kerberos, resolved. @internal */
export interface KerberosTarget {
  /** For `VedAuth.Options`: `mechanism` and `kerberos`, when set. */
  readonly options: { readonly mechanism?: VedAuth.Mechanism; readonly kerberos?: VedAuth.KerberosOptions }
  /** The principal the credential cache or a one-principal keytab names: the user when none is given. */
  readonly principal: string | undefined
  /** The keytab or the credential cache holds the user's key or tickets: no password is asked for. */
  readonly passwordFree: boolean
  /** That keytab or cache was named on this call (flag or variable), not only saved in the profile. */
  readonly namedHere: boolean
  /** What `login` keeps in the profile (paths made absolute). */
  readonly saved: Partial<Record<KerberosProfileKey, string>>
}

/** The Kerberos of a grant other than integrated: none, nothing read. @internal */
export const noKerberos: KerberosTarget = {
  options: {},
  principal: undefined,
  passwordFree: false,
  namedHere: false,
  saved: {}
}

type Setting = keyof VedAuth.KerberosText

// Flag, else variable (for the keytab also MIT's KRB5_CLIENT_KTNAME), else the profile.
const selected = (flags: Flags, env: Env, profile: { readonly name: string; readonly value: Profile | undefined }) => {
  const fromProfile = (key: KerberosProfileKey): Selected | undefined => {
    const value = profile.value?.[key]
    return value === undefined ? undefined : { value, from: `profile ${profile.name}` }
  }
  const mitKeytab = env["KRB5_CLIENT_KTNAME"]
  const mitCache = env["KRB5CCNAME"]
  const pick = (key: (typeof kerberosSelectorKeys)[number]) => explicitSelector(key, flags, env) ?? fromProfile(key)
  const keytab = explicitSelector("keytab", flags, env) ??
    (mitKeytab === undefined || mitKeytab === "" ? undefined : { value: mitKeytab, from: "KRB5_CLIENT_KTNAME" }) ??
    fromProfile("keytab")
  return {
    mechanism: pick("mechanism"),
    realm: pick("realm"),
    kdc: pick("kdc"),
    spn: pick("spn"),
    keytab,
    cache: (mitCache === undefined || mitCache === "" ? undefined : { value: mitCache, from: "KRB5CCNAME" }) ??
      fromProfile("cache")
  } satisfies Record<Setting, Selected | undefined>
}

const defaultCacheSource = "krb5.conf default_ccache_name"

// With no cache named, the one kinit fills by krb5.conf (RHEL's `KCM:`), when its daemon holds a
// cache there: a daemon that is not running, or an empty cache, is no cache (a password still works).
// Its principal comes along (asked once).
const withDefaultCache = <S extends { readonly mechanism: Selected | undefined; readonly cache: Selected | undefined }>(
  sources: S
) =>
  Effect.gen(function*() {
    const none = { sources, owner: Option.none<string>() }
    if (sources.cache !== undefined || sources.mechanism?.value.toLowerCase() === "ntlm") return none
    const name = yield* Effect.orElseSucceed(Kerberos.defaultCache(), () => Option.none<string>())
    if (Option.isNone(name)) return none
    const owner = yield* Effect.orElseSucceed(Kerberos.cachePrincipal(name.value), () => Option.none<string>())
    return Option.isNone(owner)
      ? none
      : { sources: { ...sources, cache: { value: name.value, from: defaultCacheSource } }, owner }
  })

// The hardened reader's refusals (KEYTAB_UNTRUSTED, CCACHE_UNREADABLE, ...) already say "cannot use
// the keytab '...': why"; anything else (a cache that does not decode) is wrapped to say so.
const unreadable = (
  what: string,
  source: Selected,
  error: { readonly message: string; readonly reason?: string; readonly detail?: string }
) =>
  new UsageError({
    detail: `${
      /^(KEYTAB|CCACHE)_(UNREADABLE|UNTRUSTED)$/.test(error.reason ?? "") && error.detail !== undefined
        ? safeText(error.detail)
        : `cannot use the ${what} '${safeText(source.value)}': ${safeText(error.message)}`
    } (${source.from})`
  })

/**
 * The Kerberos settings of a command, checked: a bad mechanism or KDC, or a keytab or credential
 * cache of a type vedauth cannot read (`KCM:`, `KEYRING:`, ...), is a usage error naming the type,
 * what to do, and where the setting came from. The keytab and the cache are read for the principal
 * they name. With `--mechanism ntlm` none of it is read.
 * @internal
 */
export const kerberosTarget = (
  flags: Flags,
  env: Env,
  profile: { readonly name: string; readonly value: Profile | undefined },
  username: string | undefined
): Effect.Effect<KerberosTarget, UsageError> =>
  Effect.gen(function*() {
    const { owner: defaultOwner, sources } = yield* withDefaultCache(selected(flags, env, profile))
    const parsed = VedAuth.kerberosFromText({
      mechanism: sources.mechanism?.value,
      realm: sources.realm?.value,
      kdc: sources.kdc?.value,
      spn: sources.spn?.value,
      keytab: sources.keytab?.value,
      cache: sources.cache?.value
    })
    if (Either.isLeft(parsed)) {
      const typed = parsed.left.setting === "mechanism" ? sources.mechanism?.value ?? "" : ""
      const hint = typed === "" ? "" : didYouMean(typed, ["negotiate", "kerberos", "ntlm"])
      return yield* new UsageError({
        detail: `${safeText(parsed.left.detail)}${hint} (${sources[parsed.left.setting]?.from ?? parsed.left.setting})`
      })
    }
    const options = parsed.right
    if (flags.systemKerberos === true || env["VEDAUTH_SYSTEM_KERBEROS"] === "1") {
      return yield* systemTarget(options, sources)
    }
    const settings = options.kerberos ?? {}
    const keytabPrincipals = settings.keytab === undefined
      ? []
      : (yield* Effect.mapError(Kerberos.readKeytab(settings.keytab), (error) =>
        unreadable("keytab", sources.keytab!, error))).principals
    const cacheOwner = settings.cache === undefined || Option.isSome(defaultOwner)
      ? defaultOwner
      : yield* Effect.mapError(Kerberos.cachePrincipal(settings.cache), (error) =>
        unreadable("credential cache", sources.cache!, error))
    const cachePrincipal = Option.getOrUndefined(cacheOwner)
    const principal = cachePrincipal ?? (keytabPrincipals.length === 1 ? keytabPrincipals[0] : undefined)
    const cacheIsTheUser = cachePrincipal !== undefined &&
      (username === undefined || Kerberos.userNamesPrincipal(username, cachePrincipal))
    const saved = savedSelectors(sources)
    if (settings.keytab !== undefined) {
      saved.keytab = resolvePath(settings.keytab)
    }
    // The cache is remembered only when it was named (KRB5CCNAME), never guessed; a KCM: one by its name.
    if (settings.cache !== undefined && sources.cache?.from !== defaultCacheSource) {
      saved.cache = /^KCM:/i.test(settings.cache) ? settings.cache : resolvePath(settings.cache)
    }
    const named = (source: Selected | undefined) =>
      source !== undefined && !source.from.startsWith("profile ")
    const kerberosUsed = options.mechanism !== "ntlm"
    return {
      options,
      principal,
      passwordFree: kerberosUsed && (settings.keytab !== undefined || cacheIsTheUser),
      namedHere: kerberosUsed &&
        ((settings.keytab !== undefined && named(sources.keytab)) || (cacheIsTheUser && named(sources.cache))),
      saved
    }
  }).pipe(Effect.provide(Layer.merge(NodeTokenStoreFiles.layer, NodeKcmTransport.layer())))

// What `login` keeps in the profile of the settings given (the keytab's path is made absolute apart).
const savedSelectors = (sources: ReturnType<typeof selected>): Partial<Record<KerberosProfileKey, string>> => {
  const saved: Partial<Record<KerberosProfileKey, string>> = {}
  for (const key of kerberosSelectorKeys) {
    if (key !== "keytab" && sources[key] !== undefined) saved[key] = sources[key].value
  }
  return saved
}

/**
 * `--system-kerberos`: the operating system's tickets through the `kerberos` addon, which reads
 * every cache type itself; no keytab or cache of ours is read, and no password is asked for.
 */
const systemTarget = (
  options: { readonly mechanism?: VedAuth.Mechanism; readonly kerberos?: VedAuth.KerberosOptions },
  sources: ReturnType<typeof selected>
) => {
  if (options.mechanism === "ntlm") {
    return Effect.fail(
      new UsageError({
        detail: `--system-kerberos is Kerberos, and the mechanism is ntlm (${
          sources.mechanism?.from ?? "mechanism"
        }): choose one`
      })
    )
  }
  const saved = savedSelectors(sources)
  const kerberos: VedAuth.KerberosOptions = { ...(options.kerberos ?? {}), system: true }
  return Effect.succeed<KerberosTarget>({
    options: { ...options, kerberos },
    principal: undefined,
    passwordFree: true,
    namedHere: true,
    saved
  })
}

/**
 * Runs a command with `env` as Effect's configuration, so that what core reads through `Config`
 * (krb5.conf's place, `KRB5_CONFIG`; `VEDAUTH_PASSWORD`) comes from the environment the command
 * line was given, as the flags' variables do.
 * @internal
 */
export const withEnvironment = (env: Env) =>
  Effect.withConfigProvider(
    ConfigProvider.fromMap(
      new Map(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
    )
  )
