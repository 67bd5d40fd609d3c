/**
 * A minimal KDC for one realm (RFC 4120 sections 3.1.2 and 3.3.2), for test servers and simulators:
 * AS with encrypted-timestamp pre-authentication required, TGS for the principals whose keys it
 * holds; its own `krbtgt` key is random. Not a directory: no cross-realm, renewal, delegation or PAC.
 * Sans-I/O like the client: `handle` answers request bytes with reply bytes.
 *
 * @since 0.2.0
 */
import type { ServiceKey } from "../internal/kerberos/acceptor.js"
import { enctypes } from "../internal/kerberos/enctypes.js"
import * as server from "../internal/kerberos/kdc.js"
import { NameType } from "../internal/kerberos/types.js"
import type * as Keytab from "../Keytab.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface Options {
  readonly realm: string
  /** Every principal's keys (users and services), e.g. from `Keytab.fromPassword`. */
  readonly keys: ReadonlyArray<Keytab.Entry>
  /** Default 10 hours, as MIT and Active Directory issue. */
  readonly ticketLifetimeMillis?: number
  /** Default 5 minutes. */
  readonly skewMillis?: number
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Kdc {
  readonly realm: string
  /** Answers one AS-REQ or TGS-REQ at `now` with a KDC-REP or a KRB-ERROR; never throws. */
  readonly handle: (request: Uint8Array, now: number) => Uint8Array
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: Options): Kdc => {
  const realm = options.realm.toUpperCase()
  const krbtgt = enctypes.map((e): ServiceKey => ({
    principal: { nameType: NameType.srvInst, components: ["krbtgt", realm] },
    realm,
    kvno: 1,
    key: { keytype: e.id, keyvalue: crypto.getRandomValues(new Uint8Array(e.keyBytes)) }
  }))
  const settings: server.KdcOptions = {
    realm,
    keys: [...krbtgt, ...options.keys],
    ticketLifetimeMillis: options.ticketLifetimeMillis ?? 10 * 3600_000,
    skewMillis: options.skewMillis ?? 5 * 60_000
  }
  return { realm, handle: (request, now) => server.handle(settings, request, now) }
}
