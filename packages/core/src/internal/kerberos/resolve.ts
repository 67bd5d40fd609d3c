/**
 * Where a realm's KDCs are and which realm a name lives in: options first, then krb5.conf
 * (`KRB5_CONFIG`, else /etc/krb5.conf, read through @effect/platform's FileSystem when one is
 * provided), then DNS SRV `_kerberos._tcp.REALM` through the transport.
 */
import { FileSystem } from "@effect/platform"
import { Config, Effect, Option } from "effect"
import { KdcTransport, parseAddress, type KdcAddress } from "../../KdcTransport.js"
import { KerberosError } from "../../KerberosError.js"
import { TransportError } from "../../VedAuthError.js"
import { parseKrb5Conf, type Krb5Conf } from "./krb5conf.js"

const emptyConf: Krb5Conf = { defaultRealm: undefined, kdcs: new Map(), domainRealm: [] }

/** krb5.conf as MIT finds it; an absent or unreadable file is an empty one (as MIT treats it). @internal */
export const loadKrb5Conf = Effect.gen(function*() {
  const fs = yield* Effect.serviceOption(FileSystem.FileSystem)
  if (Option.isNone(fs)) return emptyConf
  const path = yield* Config.string("KRB5_CONFIG").pipe(Config.withDefault("/etc/krb5.conf"), Effect.orElseSucceed(() => "/etc/krb5.conf"))
  // MIT accepts a colon-separated list; the first readable file wins here.
  for (const file of path.split(":").filter((p) => p !== "")) {
    const text = yield* fs.value.readFileString(file).pipe(Effect.option)
    if (Option.isSome(text)) return parseKrb5Conf(text.value)
  }
  return emptyConf
})

/** @internal */
export const resolveKdcs = (realm: string, given: ReadonlyArray<string> | undefined, conf: Krb5Conf) =>
  Effect.gen(function*() {
    const fromText = (list: ReadonlyArray<string>) =>
      Effect.forEach(list, (text) => {
        const address = parseAddress(text)
        return address === undefined
          ? Effect.fail(new KerberosError({ name: "BAD_KDC_ADDRESS", detail: `"${text}" is not host, host:port or [ipv6]:port` }))
          : Effect.succeed(address)
      })
    if (given !== undefined && given.length > 0) return yield* fromText(given)
    const configured = conf.kdcs.get(realm) ?? [...conf.kdcs.entries()].find(([name]) => name.toUpperCase() === realm.toUpperCase())?.[1]
    if (configured !== undefined && configured.length > 0) return yield* fromText(configured)
    const transport = yield* KdcTransport
    if (transport.lookup !== undefined) {
      const found = yield* transport.lookup(realm).pipe(Effect.orElseSucceed((): ReadonlyArray<KdcAddress> => []))
      if (found.length > 0) return found
    }
    return yield* new TransportError({ detail: `no KDC is known for realm ${realm}: pass one (kdc option), list it in krb5.conf [realms], or publish _kerberos._tcp.${realm} SRV records` })
  })
