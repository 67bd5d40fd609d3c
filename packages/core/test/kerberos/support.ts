/**
 * Test support for the Kerberos suites that need no KDC: service tickets minted directly with a
 * service key (what a KDC's TGS would hand out), so that the initiator and acceptor meet in memory.
 */
import { Effect, Redacted } from "effect"
import { encodeEncTicketPart, KeyUsage } from "../../../winauth/src/internal/kerberos/apMessages.js"
import * as der from "../../../winauth/src/internal/kerberos/der.js"
import { enctypeById } from "../../../winauth/src/internal/kerberos/enctypes.js"
import type { Credential } from "../../../winauth/src/internal/kerberos/kdcClient.js"
import { decodeTicket, encodeTicket, NameType } from "../../../winauth/src/internal/kerberos/types.js"
import * as Kerberos from "../../src/Kerberos.js"

export const REALM = "VEDAUTH.TEST"
export const SPN = "HTTP/tpp.vedauth.test"
export const servicePrincipal: Kerberos.Principal = { name: ["HTTP", "tpp.vedauth.test"], realm: REALM }
export const serviceKeytab = await Effect.runPromise(
  Kerberos.keytabFromPassword(servicePrincipal, Redacted.make("service-account-password"), { kvno: 3 })
)

/** A service ticket for `client`, valid from `now` for `lifetimeMillis`, sealed with the keytab's key of `etype`. */
export const mintTicket = (
  options: { readonly now: number; readonly lifetimeMillis?: number; readonly etype?: number; readonly client?: string }
): Kerberos.ServiceTicket => {
  const etype = options.etype ?? 18
  const serviceKey = Redacted.value(serviceKeytab.keys).find((k) => k.key.keytype === etype)!
  const enctype = enctypeById(etype)!
  const sessionKey = { keytype: etype, keyvalue: crypto.getRandomValues(new Uint8Array(enctype.keyBytes)) }
  const client = { nameType: NameType.principal, components: [options.client ?? "alice"] }
  const authtime = Math.floor(options.now / 1000) * 1000
  const endtime = authtime + (options.lifetimeMillis ?? 10 * 3600_000)
  const encPart = encodeEncTicketPart({
    flags: 0,
    key: sessionKey,
    crealm: REALM,
    cname: client,
    authtime,
    starttime: undefined,
    endtime
  })
  const sname = { nameType: NameType.srvInst, components: ["HTTP", "tpp.vedauth.test"] }
  const raw = encodeTicket({
    realm: REALM,
    sname,
    encPart: {
      etype,
      kvno: serviceKey.kvno,
      cipher: enctype.encrypt(serviceKey.key.keyvalue, KeyUsage.ticket, encPart)
    }
  })
  const credential: Credential = {
    client,
    crealm: REALM,
    server: sname,
    srealm: REALM,
    ticket: decodeTicket(der.readAt(raw, 0)),
    sessionKey,
    flags: 0,
    authtime,
    starttime: undefined,
    endtime,
    renewTill: undefined
  }
  return {
    client: `${client.components[0]}@${REALM}`,
    server: `${SPN}@${REALM}`,
    expiresAt: new Date(endtime),
    kdcRoundTrips: 0,
    credential: Redacted.make(credential)
  }
}
