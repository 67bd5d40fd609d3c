/**
 * The simulator's Kerberos half: a realm with a minimal KDC (`@vedauth/winauth/server`'s) holding
 * every configured user's keys (from their passwords) and the server's `HTTP/<host>` keys, and the
 * acceptor IIS would run for `Negotiate` (AP-REQ checked with the service key, replay cache, clock
 * skew, channel bindings required over TLS when the simulator requires them, AP-REP answered).
 */
import { Kerberos } from "@vedauth/core"
import { Acceptor, Kdc } from "@vedauth/winauth/server"
import type { Duration } from "effect"
import { Duration as Durations, Effect, Redacted } from "effect"
import type { UserConfig } from "./config.js"

/** @internal */
export interface KerberosOptions {
  /** Default `CORP.EXAMPLE` (the default domain's DNS name, upper case). */
  readonly realm?: string
  /** The host names the server has `HTTP/<host>` keys for. Default `localhost` and `tpp.corp.example`. */
  readonly hosts?: ReadonlyArray<string>
  /** Default 5 minutes. */
  readonly clockSkew?: Duration.DurationInput
  /**
   * The server's keys, e.g. from another KDC's keytab (MIT `kadmin ktadd`), so that tickets that KDC
   * issues are accepted here; default random keys for `hosts`.
   */
  readonly serviceKeytab?: Kerberos.Keytab
}

/** @internal */
export interface KerberosRealm {
  readonly realm: string
  readonly kdc: Kdc.Kdc
  /** The server's keys (every `HTTP/<host>@REALM`), e.g. for an external acceptor or `curl --negotiate` tests. */
  readonly serviceKeytab: Kerberos.Keytab
  /** Acceptors sharing nothing but the keys: one that requires channel bindings (TLS, "required"), one that does not. */
  readonly acceptor: (requireChannelBindings: boolean) => Acceptor.Acceptor
}

/** @internal */
export const makeRealm = (options: KerberosOptions, users: ReadonlyArray<UserConfig>): Effect.Effect<KerberosRealm> =>
  Effect.gen(function*() {
    const realm = (options.realm ?? "CORP.EXAMPLE").toUpperCase()
    const hosts = options.hosts ?? ["localhost", "tpp.corp.example"]
    // The service's password is random: only the KDC and the acceptor ever hold its keys.
    const servicePassword = Redacted.make(
      Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join("")
    )
    const serviceKeys = yield* Effect.forEach(
      hosts,
      (host) => Kerberos.keytabFromPassword({ name: ["HTTP", host.toLowerCase()], realm }, servicePassword)
    )
    const serviceKeytab: Kerberos.Keytab = options.serviceKeytab ??
      Kerberos.keytabOf(serviceKeys.flatMap((k) => Redacted.value(k.keys)))
    const userKeys = yield* Effect.forEach(
      users,
      (user) => Kerberos.keytabFromPassword({ name: [user.name], realm }, user.password)
    )
    const skewMillis = options.clockSkew === undefined ? {} : { skewMillis: Durations.toMillis(options.clockSkew) }
    const kdc = Kdc.make({
      realm,
      keys: [serviceKeytab, ...userKeys].flatMap((k) => Redacted.value(k.keys)),
      ...skewMillis
    })
    const keys = Redacted.value(serviceKeytab.keys)
    const acceptors = [
      Acceptor.make({ keys, ...skewMillis, requireChannelBindings: false }),
      Acceptor.make({ keys, ...skewMillis, requireChannelBindings: true })
    ] as const
    return { realm, kdc, serviceKeytab, acceptor: (required) => acceptors[required ? 1 : 0] }
  })
