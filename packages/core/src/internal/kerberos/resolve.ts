/**
 * Where a realm's KDCs are and which realm a name lives in: options first, then krb5.conf
 * (`KRB5_CONFIG`, else /etc/krb5.conf, read through the hardened reader, `LocalFiles`, when a
 * `TokenStoreFiles` is provided), then DNS SRV `_kerberos._tcp.REALM` through the transport.
 */
import { Krb5Conf } from "@vedauth/winauth"
import { Config, Effect, Option } from "effect"
import { type KdcAddress, KdcTransport, parseAddress } from "../../KdcTransport.js"
import { KerberosError } from "../../KerberosError.js"
import * as LocalFiles from "../../LocalFiles.js"
import { TokenStoreFiles } from "../../TokenStoreFiles.js"
import { TransportError } from "../../VedAuthError.js"

/** @internal */
export const emptyKrb5Conf: Krb5Conf.Krb5Conf = Krb5Conf.empty

/**
 * krb5.conf as MIT finds it: an absent file is an empty one (as MIT treats it); one that is a FIFO,
 * a device, too large, not UTF-8, another user's or writable by others is a `KerberosError` (it
 * names the KDCs a password is sent to: another user must not choose them).
 * @internal
 */
export const loadKrb5Conf = Effect.gen(function*() {
  const files = yield* Effect.serviceOption(TokenStoreFiles)
  if (Option.isNone(files)) return emptyKrb5Conf
  const path = yield* Config.string("KRB5_CONFIG").pipe(
    Config.withDefault("/etc/krb5.conf"),
    Effect.orElseSucceed(() => "/etc/krb5.conf")
  )
  // MIT accepts a colon-separated list; the first file that exists wins here.
  for (const file of path.split(":").filter((p) => p !== "")) {
    const text = yield* LocalFiles.readText(file, "krb5Conf").pipe(
      Effect.provideService(TokenStoreFiles, files.value),
      Effect.mapError((error) =>
        new KerberosError({
          reason: "KRB5_CONF_UNREADABLE",
          detail: error.message,
          hint: "fix or remove it, point KRB5_CONFIG at another, or give the realm and the KDC"
        })
      )
    )
    if (Option.isSome(text)) return Krb5Conf.parse(text.value)
  }
  return emptyKrb5Conf
})

/** @internal */
export const resolveKdcs = (realm: string, given: ReadonlyArray<string> | undefined, conf: Krb5Conf.Krb5Conf) =>
  Effect.gen(function*() {
    const fromText = (list: ReadonlyArray<string>) =>
      Effect.forEach(list, (text) => {
        const address = parseAddress(text)
        return address === undefined
          ? Effect.fail(
            new KerberosError({ reason: "BAD_KDC_ADDRESS", detail: `"${text}" is not host, host:port or [ipv6]:port` })
          )
          : Effect.succeed(address)
      })
    if (given !== undefined && given.length > 0) return yield* fromText(given)
    const configured = conf.kdcs.get(realm) ??
      [...conf.kdcs.entries()].find(([name]) => name.toUpperCase() === realm.toUpperCase())?.[1]
    if (configured !== undefined && configured.length > 0) return yield* fromText(configured)
    const transport = yield* KdcTransport
    if (transport.lookup !== undefined) {
      const found = yield* transport.lookup(realm).pipe(Effect.orElseSucceed((): ReadonlyArray<KdcAddress> => []))
      if (found.length > 0) return found
    }
    return yield* new TransportError({
      detail:
        `no KDC is known for realm ${realm}: pass one (kdc option), list it in krb5.conf [realms], or publish _kerberos._tcp.${realm} SRV records`
    })
  })
