/**
 * The server halves of the engine (`@vedauth/winauth/server`) as Effect values for these tests: a
 * KDC answering at the Clock's time, with a `KdcTransport` layer over it, and an acceptor that fails
 * with `KerberosError` as the client does.
 */
import { KdcTransport, Kerberos, KerberosError } from "@vedauth/core"
import { Failure } from "@vedauth/winauth"
import { Acceptor, Kdc } from "@vedauth/winauth/server"
import { Clock, Duration, Effect, type Layer, Redacted } from "effect"

export interface TestKdc {
  readonly realm: string
  readonly handle: (request: Uint8Array) => Effect.Effect<Uint8Array>
  readonly layer: Layer.Layer<KdcTransport.KdcTransport>
}

export const makeKdc = (options: {
  readonly realm: string
  readonly keytabs: ReadonlyArray<Kerberos.Keytab>
  readonly ticketLifetime?: Duration.DurationInput
  readonly clockSkew?: Duration.DurationInput
}): TestKdc => {
  const kdc = Kdc.make({
    realm: options.realm,
    keys: options.keytabs.flatMap((k) => Redacted.value(k.keys)),
    ...(options.ticketLifetime === undefined
      ? {}
      : { ticketLifetimeMillis: Duration.toMillis(options.ticketLifetime) }),
    ...(options.clockSkew === undefined ? {} : { skewMillis: Duration.toMillis(options.clockSkew) })
  })
  return {
    realm: kdc.realm,
    handle: (request) => Effect.map(Clock.currentTimeMillis, (now) => kdc.handle(request, now)),
    layer: KdcTransport.layerKdc(kdc)
  }
}

export const makeAcceptor = (options: {
  readonly keytab: Kerberos.Keytab
  readonly clockSkew?: Duration.DurationInput
  readonly requireChannelBindings?: boolean
}) => {
  const acceptor = Acceptor.make({
    keys: Redacted.value(options.keytab.keys),
    ...(options.clockSkew === undefined ? {} : { skewMillis: Duration.toMillis(options.clockSkew) }),
    ...(options.requireChannelBindings === undefined ? {} : { requireChannelBindings: options.requireChannelBindings })
  })
  return {
    accept: (
      token: Uint8Array,
      acceptOptions: { readonly channelBindings?: Uint8Array } = {}
    ): Effect.Effect<Acceptor.Accepted, KerberosError.KerberosError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.try({
          try: () => acceptor.accept(token, { now, channelBindings: acceptOptions.channelBindings }),
          catch: (e) =>
            e instanceof Failure.KerberosFailure
              ? new KerberosError.KerberosError({
                reason: e.reason,
                detail: e.detail,
                ...(e.code === undefined ? {} : { code: e.code }),
                ...(e.hint === undefined ? {} : { hint: e.hint })
              })
              : new KerberosError.KerberosError({ reason: "DEFECT", detail: String(e) })
        }))
  }
}
