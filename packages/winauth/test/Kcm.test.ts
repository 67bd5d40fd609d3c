/**
 * The KCM codec: requests as MIT's cc_kcm.c writes them (version 2.0, opcode, NUL-terminated name,
 * ccache version 4 principals and credentials), replies as sssd-kcm sends them (transport status,
 * operation status, data), and every malformed reply a `KerberosFailure` (`MALFORMED`), never
 * another exception.
 */
import { assert, describe, it } from "@effect/vitest"
import { FastCheck } from "effect"
import { KerberosFailure } from "../src/Failure.js"
import { counted32, u32 } from "../src/internal/kerberos/binary.js"
import { writeCredential, writePrincipal } from "../src/internal/kerberos/ccache.js"
import * as der from "../src/internal/kerberos/der.js"
import type { Credential } from "../src/internal/kerberos/kdcClient.js"
import { decodeTicket, encodeTicket } from "../src/internal/kerberos/types.js"
import { concat, fromHex, toHex } from "../src/internal/ntlm/bytes.js"
import * as Kcm from "../src/Kcm.js"
import * as Krb5Conf from "../src/Krb5Conf.js"

const REALM = "VEDAUTH.TEST"
const ticketBytes = encodeTicket({
  realm: REALM,
  sname: { nameType: 2, components: ["HTTP", "tpp.vedauth.test"] },
  encPart: { etype: 18, kvno: 2, cipher: new Uint8Array(40).fill(7) }
})
const credential: Credential = {
  client: { nameType: 1, components: ["alice"] },
  crealm: REALM,
  server: { nameType: 2, components: ["HTTP", "tpp.vedauth.test"] },
  srealm: REALM,
  ticket: decodeTicket(der.readAt(ticketBytes, 0)),
  sessionKey: { keytype: 18, keyvalue: new Uint8Array(32).fill(1) },
  flags: 0x50e00000,
  authtime: 1_800_000_000_000,
  starttime: 1_800_000_000_000,
  endtime: 1_800_036_000_000,
  renewTill: undefined
}

/** A reply as the transport hands it over: transport status 0, then the operation's status and data. */
const reply = (status: number, ...data: ReadonlyArray<Uint8Array>) => concat(u32(0), u32(status), ...data)
const text = (s: string) => new TextEncoder().encode(s)

const failsWith = (reason: string, f: () => unknown) => {
  try {
    f()
  } catch (e) {
    assert.instanceOf(e, KerberosFailure)
    assert.strictEqual((e as KerberosFailure).reason, reason)
    return e as KerberosFailure
  }
  assert.fail(`expected ${reason}`)
}

describe("KCM requests", () => {
  it("GET_DEFAULT_CACHE, GET_PRINCIPAL, GET_CRED_UUID_LIST, GET_CRED_BY_UUID as MIT writes them", () => {
    assert.strictEqual(toHex(Kcm.getDefaultCache()), "02000014")
    assert.strictEqual(toHex(Kcm.getPrincipal("0")), "020000083000")
    assert.strictEqual(toHex(Kcm.getCredUuidList("0")), "020000093000")
    const id = new Uint8Array(16).fill(0xab)
    assert.strictEqual(toHex(Kcm.getCredByUuid("0", id)), `0200000a3000${"ab".repeat(16)}`)
    assert.strictEqual(toHex(Kcm.getCredList("0")), "020032c93000")
  })

  it("STORE carries the credential in the ccache version 4 encoding; INITIALIZE the principal", () => {
    assert.deepStrictEqual(Kcm.store("0", credential), concat(fromHex("020000063000"), writeCredential(credential)))
    assert.deepStrictEqual(
      Kcm.initialize("0", { name: ["alice"], realm: REALM }),
      concat(fromHex("020000043000"), writePrincipal(credential.client, REALM))
    )
  })

  it("a cache name with a NUL byte, or an id that is not 16 bytes, is refused before anything is sent", () => {
    failsWith("BAD_CACHE_NAME", () => Kcm.getPrincipal("0\u0000x"))
    failsWith("BAD_CACHE_NAME", () => Kcm.getCredByUuid("0", new Uint8Array(15)))
  })
})

describe("KCM replies", () => {
  it("decodes a name, a principal, an id list and a credential", () => {
    assert.strictEqual(Kcm.decodeName(reply(0, text("0\u0000"))), "0")
    assert.deepStrictEqual(Kcm.decodePrincipal(reply(0, writePrincipal(credential.client, REALM))), {
      name: ["alice"],
      realm: REALM
    })
    assert.strictEqual(Kcm.decodePrincipal(reply(0)), undefined)
    const ids = [new Uint8Array(16).fill(1), new Uint8Array(16).fill(2)]
    assert.deepStrictEqual(Kcm.decodeUuidList(reply(0, ...ids)), ids)
    const decoded = Kcm.decodeCredential(reply(0, writeCredential(credential)))
    assert.deepStrictEqual(decoded?.ticket.raw, ticketBytes)
    assert.strictEqual(decoded?.endtime, credential.endtime)
    Kcm.decodeEmpty(reply(0))
    const config = writeCredential({ ...credential, srealm: "X-CACHECONF:" })
    const listed = Kcm.decodeCredList(reply(0, u32(2), counted32(config), counted32(writeCredential(credential))))
    assert.deepStrictEqual(listed.map((c) => c.ticket.raw), [ticketBytes])
  })

  it("a configuration entry (X-CACHECONF:) is passed over", () => {
    const config = writeCredential({
      ...credential,
      server: { nameType: 0, components: ["krb5_ccache_conf_data", "pa_type"] },
      srealm: "X-CACHECONF:"
    })
    assert.strictEqual(Kcm.decodeCredential(reply(0, config)), undefined)
  })

  it("the daemon's status: no such cache is KCM_NO_CACHE, another code KCM_ERROR with it", () => {
    assert.strictEqual(failsWith("KCM_NO_CACHE", () => Kcm.decodePrincipal(reply(-1765328189 >>> 0))).code, -1765328189)
    assert.strictEqual(failsWith("KCM_ERROR", () => Kcm.decodeEmpty(concat(u32(5), u32(0)))).code, 5)
  })

  it("truncated, trailing, oversized and uneven replies are MALFORMED", () => {
    failsWith("MALFORMED", () => Kcm.decodeName(reply(0, text("0"))))
    failsWith("MALFORMED", () => Kcm.decodeName(reply(0, text("0\u0000x"))))
    failsWith("MALFORMED", () => Kcm.decodeName(reply(0, text("\u0000"))))
    failsWith(
      "MALFORMED",
      () => Kcm.decodePrincipal(reply(0, writePrincipal(credential.client, REALM), Uint8Array.of(0)))
    )
    failsWith("MALFORMED", () => Kcm.decodeUuidList(reply(0, new Uint8Array(17))))
    failsWith("MALFORMED", () => Kcm.decodeUuidList(reply(0, new Uint8Array(16 * (Kcm.limits.maxCredentials + 1)))))
    failsWith("MALFORMED", () => Kcm.decodeCredential(reply(0, writeCredential(credential).subarray(0, 60))))
    failsWith("MALFORMED", () => Kcm.decodeEmpty(new Uint8Array(Kcm.limits.maxReplyBytes + 1)))
    failsWith("MALFORMED", () => Kcm.decodeEmpty(Uint8Array.of(0, 0, 0)))
    failsWith("MALFORMED", () => Kcm.decodeCredList(reply(0, u32(Kcm.limits.maxCredentials + 1))))
    failsWith("MALFORMED", () => Kcm.decodeCredList(reply(0, u32(1), u32(1 << 30))))
    failsWith(
      "MALFORMED",
      () => Kcm.decodeCredList(reply(0, u32(1), counted32(concat(writeCredential(credential), Uint8Array.of(0)))))
    )
    failsWith("MALFORMED", () => Kcm.decodeCredList(reply(0, u32(0), Uint8Array.of(0))))
  })

  it("any bytes: each decoder returns or throws KerberosFailure, nothing else", () => {
    const good = [
      reply(0, writeCredential(credential)),
      reply(0, u32(1), counted32(writeCredential(credential))),
      reply(0, writePrincipal(credential.client, REALM)),
      reply(0, text("0\u0000")),
      reply(0, new Uint8Array(32))
    ]
    const decoders: ReadonlyArray<(bytes: Uint8Array) => unknown> = [
      Kcm.decodeName,
      Kcm.decodePrincipal,
      Kcm.decodeUuidList,
      Kcm.decodeCredential,
      Kcm.decodeCredList,
      Kcm.decodeEmpty
    ]
    const mutated = FastCheck.tuple(
      FastCheck.constantFrom(...good),
      FastCheck.nat(),
      FastCheck.integer({ min: 0, max: 255 }),
      FastCheck.nat()
    )
      .map(([bytes, at, value, cut]) => {
        const copy = bytes.slice()
        copy[at % copy.length] = value
        return copy.subarray(0, copy.length - (cut % 8))
      })
    FastCheck.assert(
      FastCheck.property(FastCheck.oneof(mutated, FastCheck.uint8Array({ maxLength: 300 })), (bytes) => {
        for (const decode of decoders) {
          try {
            decode(bytes)
          } catch (e) {
            if (!(e instanceof KerberosFailure)) throw e
          }
        }
      }),
      { numRuns: 500 }
    )
  })
})

describe("krb5.conf: where the caches are", () => {
  it("reads [libdefaults] default_ccache_name and kcm_socket (RHEL's snippet), nothing from other sections", () => {
    const conf = Krb5Conf.parse(
      "[libdefaults]\n  default_ccache_name = KCM:\n  kcm_socket = /run/.heim_org.h5l.kcm-socket # sssd\n[realms]\n  X = {\n    kcm_socket = /elsewhere\n  }\n"
    )
    assert.strictEqual(conf.defaultCcacheName, "KCM:")
    assert.strictEqual(conf.kcmSocket, "/run/.heim_org.h5l.kcm-socket")
    assert.isUndefined(Krb5Conf.parse("[libdefaults]\n  default_realm = X\n").kcmSocket)
  })
})
