/**
 * Every Kerberos decoder is total: any bytes, and every truncation or bit flip of a genuine message,
 * give a value or a `Malformed` finding (a typed error at the public edge), never another exception.
 * `FUZZ_RUNS` raises the run count, as `pnpm fuzz` does for the other parsers.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeAcceptor, makeKdc } from "@vedauth/test-helpers/kerberosServers"
import { Effect, Exit, FastCheck, Redacted, TestClock } from "effect"
import * as ap from "../../../winauth/src/internal/kerberos/apMessages.js"
import * as ccache from "../../../winauth/src/internal/kerberos/ccache.js"
import * as der from "../../../winauth/src/internal/kerberos/der.js"
import * as gss from "../../../winauth/src/internal/kerberos/gssToken.js"
import * as kdc from "../../../winauth/src/internal/kerberos/kdcMessages.js"
import * as keytab from "../../../winauth/src/internal/kerberos/keytab.js"
import { parseKrb5Conf } from "../../../winauth/src/internal/kerberos/krb5conf.js"
import * as spnego from "../../../winauth/src/internal/kerberos/spnego.js"
import { decodeTicket } from "../../../winauth/src/internal/kerberos/types.js"
import { Malformed } from "../../../winauth/src/internal/ntlm/bytes.js"
import * as Kerberos from "../../src/Kerberos.js"
import { mintTicket, serviceKeytab } from "./support.js"

const runs = (small: number) => {
  const configured = Number(process.env["FUZZ_RUNS"])
  return Number.isFinite(configured) && configured > 0 ? configured : small
}

const total = (decode: (bytes: Uint8Array) => unknown) => (bytes: Uint8Array) => {
  try {
    decode(bytes)
  } catch (e) {
    if (!(e instanceof Malformed)) throw e
  }
}

/** Random bytes, and truncations and bit flips of a genuine sample. */
const around = (sample: Uint8Array) =>
  FastCheck.oneof(
    FastCheck.uint8Array({ maxLength: 300 }),
    FastCheck.nat(sample.length).map((n) => sample.slice(0, n)),
    FastCheck.tuple(FastCheck.nat(sample.length * 8 - 1), FastCheck.nat(255)).map(([bit, byte]) => {
      const copy = sample.slice()
      copy[bit >>> 3]! ^= 1 << (bit & 7)
      copy[(bit + byte) % copy.length] = byte
      return copy
    })
  )

const now = Date.UTC(2026, 0, 15, 9)
const ticket = Redacted.value(mintTicket({ now }).credential)
const authenticator = ap.encodeAuthenticator({
  crealm: "R",
  cname: ticket.client,
  cksum: { cksumtype: 0x8003, checksum: new Uint8Array(24) },
  cusec: 5,
  ctime: now,
  subkey: ticket.sessionKey,
  seqNumber: 7
})
const apReq = ap.encodeApReq({
  options: ap.apOptionMutualRequired,
  ticket: ticket.ticket,
  authenticator: { etype: 18, kvno: undefined, cipher: new Uint8Array(40) }
})
const krbError = kdc.encodeKrbError({
  errorCode: 25,
  stime: now,
  realm: "R",
  sname: ticket.server,
  eText: "need preauth",
  eData: new Uint8Array([0x30, 0])
})
const asReq = kdc.encodeKdcReq(
  10,
  [{ type: 2, value: new Uint8Array(20) }],
  kdc.encodeReqBody({
    options: kdc.defaultKdcOptions,
    cname: ticket.client,
    realm: "R",
    sname: ticket.server,
    till: now,
    nonce: 5,
    etypes: [18, 17]
  })
)
const etypeInfo2 = kdc.encodeEtypeInfo2([{ etype: 18, salt: "Rsalt", s2kparams: Uint8Array.of(0, 0, 16, 0) }])
const negInit = spnego.encodeNegTokenInit(spnego.encodeMechTypes([gss.Oid.krb5]), gss.wrapKrb5(gss.TokId.apReq, apReq))
const negResp = spnego.encodeNegTokenResp({
  negState: 0,
  supportedMech: gss.Oid.krb5,
  responseToken: new Uint8Array(10),
  mechListMic: new Uint8Array(28)
})
const cache = ccache.writeCcache({ principal: ticket.client, realm: "R", credentials: [ticket] })
const keytabBytes = Kerberos.keytabToBytes(serviceKeytab)

const decoders: ReadonlyArray<readonly [string, (bytes: Uint8Array) => unknown, Uint8Array]> = [
  ["Ticket", (b) => decodeTicket(der.readAt(b, 0)), ticket.ticket.raw],
  [
    "AS-REP / TGS-REP",
    (b) => kdc.decodeKdcRep(b, 11),
    kdc.encodeKdcRep({
      msgType: 11,
      padata: [{ type: 19, value: etypeInfo2 }],
      crealm: "R",
      cname: ticket.client,
      ticket: ticket.ticket,
      encPart: { etype: 18, kvno: 2, cipher: new Uint8Array(50) }
    })
  ],
  [
    "EncKDCRepPart",
    kdc.decodeEncKdcRepPart,
    kdc.encodeEncKdcRepPart({
      key: ticket.sessionKey,
      nonce: 42,
      flags: 0x40e10000,
      authtime: now,
      starttime: now,
      endtime: now,
      renewTill: now,
      srealm: "R",
      sname: ticket.server
    }, true)
  ],
  ["KRB-ERROR", kdc.decodeKrbError, krbError],
  ["AS-REQ / TGS-REQ", kdc.decodeKdcReq, asReq],
  ["PA-ENC-TS-ENC", kdc.decodePaEncTsEnc, kdc.encodePaEncTsEnc(now)],
  ["ETYPE-INFO2", kdc.decodeEtypeInfo2, etypeInfo2],
  [
    "METHOD-DATA",
    kdc.decodeMethodData,
    der.sequence(der.sequence(der.field(1, der.integer(19)), der.field(2, der.octetString(etypeInfo2))))
  ],
  ["AP-REQ", ap.decodeApReq, apReq],
  ["AP-REP", ap.decodeApRep, ap.encodeApRep({ etype: 18, kvno: undefined, cipher: new Uint8Array(40) })],
  ["Authenticator", ap.decodeAuthenticator, authenticator],
  [
    "EncAPRepPart",
    ap.decodeEncApRepPart,
    ap.encodeEncApRepPart({ ctime: now, cusec: 1, subkey: ticket.sessionKey, seqNumber: 9 })
  ],
  [
    "EncTicketPart",
    ap.decodeEncTicketPart,
    ap.encodeEncTicketPart({
      flags: 0,
      key: ticket.sessionKey,
      crealm: "R",
      cname: ticket.client,
      authtime: now,
      starttime: undefined,
      endtime: now
    })
  ],
  ["GSS krb5 token", gss.unwrapKrb5, gss.wrapKrb5(gss.TokId.apReq, apReq)],
  ["GSS checksum", gss.decodeGssChecksum, gss.encodeGssChecksum(new Uint8Array(16), 62)],
  ["NegTokenInit", spnego.decodeNegTokenInit, negInit],
  ["NegTokenResp", spnego.decodeNegTokenResp, negResp],
  ["keytab", keytab.parseKeytab, keytabBytes],
  ["ccache", ccache.parseCcache, cache],
  ["OID", (b) => der.asOid(der.readAt(b, 0), "oid"), der.oid(gss.Oid.spnego)],
  ["KerberosTime", (b) => der.asTime(der.readAt(b, 0), "time"), der.time(now)]
]

describe("Kerberos decoders are total", () => {
  for (const [name, decode, sample] of decoders) {
    it(`${name}: genuine sample decodes; any bytes, truncations and flips never throw anything but Malformed`, () => {
      decode(sample)
      FastCheck.assert(FastCheck.property(around(sample), total(decode)), { numRuns: runs(300) })
    })
  }

  it("krb5.conf: any text parses without throwing", () =>
    FastCheck.assert(FastCheck.property(FastCheck.string({ maxLength: 400 }), (text) => void parseKrb5Conf(text)), {
      numRuns: runs(300)
    }))

  it("round trips: DER integers, times and OIDs", () =>
    FastCheck.assert(
      FastCheck.property(
        FastCheck.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }),
        FastCheck.integer({ min: 0, max: 4102444800 }),
        (n, seconds) => {
          assert.strictEqual(der.asInteger(der.readAt(der.integer(n), 0), "n"), n)
          assert.strictEqual(der.asTime(der.readAt(der.time(seconds * 1000), 0), "t"), seconds * 1000)
        }
      ),
      { numRuns: runs(300) }
    ))

  it.effect("the public edges turn any token into a KerberosError, never a defect", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const acceptor = makeAcceptor({ keytab: serviceKeytab })
      const initiator = yield* Kerberos.initiate(mintTicket({ now }))
      const samples = FastCheck.sample(
        FastCheck.oneof(around(negInit), around(initiator.token), around(negResp)),
        runs(200)
      )
      for (const bytes of samples) {
        const accepted = yield* Effect.exit(acceptor.accept(bytes))
        if (Exit.isFailure(accepted)) assert.strictEqual(accepted.cause._tag, "Fail")
        const completed = yield* Effect.exit(initiator.complete(bytes))
        if (Exit.isFailure(completed)) assert.strictEqual(completed.cause._tag, "Fail")
      }
      for (
        const bytes of FastCheck.sample(FastCheck.oneof(around(keytabBytes), FastCheck.uint8Array()), runs(200))
      ) Kerberos.keytabFromBytes(bytes)
      // The KDC answers anything with a reply (a KRB-ERROR for garbage), never a defect.
      const ourKdc = makeKdc({ realm: "R", keytabs: [serviceKeytab] })
      for (const bytes of FastCheck.sample(around(asReq), runs(200))) {
        const reply = yield* ourKdc.handle(bytes)
        assert.isAbove(reply.length, 0)
      }
    }))
})
