/**
 * The thin driver of the engine's ticket exchange: each message goes to the KDCs of the realm the
 * engine names (options, krb5.conf, DNS SRV, resolved once per realm), in turn until one answers,
 * and the reply comes back with the Clock's time. The engine bounds the number of steps.
 * @internal
 */
import type { Kerberos, Krb5Conf } from "@vedauth/winauth"
import { Clock, Effect } from "effect"
import { type KdcAddress, KdcTransport } from "../../KdcTransport.js"
import type { KerberosError } from "../../KerberosError.js"
import { TransportError } from "../../VedAuthError.js"
import { promised } from "./failures.js"
import { resolveKdcs } from "./resolve.js"

/** Sends to each KDC in turn until one answers. @internal */
export const sendToKdc = (kdcs: ReadonlyArray<KdcAddress>, message: Uint8Array) =>
  Effect.gen(function*() {
    const transport = yield* KdcTransport
    if (kdcs.length === 0) return yield* new TransportError({ detail: "no KDC is known for the realm" })
    let last: TransportError | undefined
    for (const address of kdcs) {
      const reply = yield* transport.send(address, message).pipe(Effect.either)
      if (reply._tag === "Right") return reply.right
      last = reply.left
    }
    return yield* Effect.fail(last!)
  })

/**
 * Runs an exchange to its end. `given` are the KDCs named in the options, for the client's realm.
 * @internal
 */
export const runExchange = (
  exchange: Kerberos.TicketExchange,
  clientRealm: string,
  given: ReadonlyArray<string> | undefined,
  conf: Krb5Conf.Krb5Conf
) =>
  Effect.gen(function*() {
    const known = new Map<string, ReadonlyArray<KdcAddress>>()
    const kdcsOf = (
      realm: string
    ): Effect.Effect<ReadonlyArray<KdcAddress>, KerberosError | TransportError, KdcTransport> =>
      Effect.suspend(() => {
        const found = known.get(realm)
        if (found !== undefined) return Effect.succeed(found)
        // The client's canonical realm (the KDC answered alice@CORP as alice@CORP.TEST): the KDCs
        // given for the asked realm, else its own, else the asked realm's KDCs, which sealed its TGT.
        const canonical = realm !== clientRealm && realm === exchange.clientRealm()
        const resolved = canonical
          ? given !== undefined && given.length > 0
            ? kdcsOf(clientRealm)
            : Effect.orElse(resolveKdcs(realm, undefined, conf), () => kdcsOf(clientRealm))
          : resolveKdcs(realm, realm === clientRealm ? given : undefined, conf)
        return Effect.tap(resolved, (kdcs) => known.set(realm, kdcs))
      })
    const started = yield* Clock.currentTimeMillis
    let step = yield* promised(() => exchange.start(started))
    while (step._tag === "Send") {
      const request = step
      const reply = yield* Effect.flatMap(kdcsOf(request.realm), (kdcs) => sendToKdc(kdcs, request.message))
      const now = yield* Clock.currentTimeMillis
      step = yield* promised(() => exchange.receive(reply, now))
    }
    return step
  })
