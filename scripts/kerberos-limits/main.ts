/**
 * Issue #21's Kerberos figures (see scripts/kerberos-limits.mjs). Plain numbers on stdout, one line
 * each; nothing here is asserted (the tests in packages/core/test/kerberos/KerberosAttacks.test.ts are).
 */
import { Effect, Redacted } from "effect"
import * as der from "../../packages/core/src/internal/kerberos/der.js"
import { enctypes, maxIterations } from "../../packages/core/src/internal/kerberos/enctypes.js"
import * as kdc from "../../packages/core/src/internal/kerberos/kdcMessages.js"
import { parseKrb5Conf } from "../../packages/core/src/internal/kerberos/krb5conf.js"
import { NameType, PaType } from "../../packages/core/src/internal/kerberos/types.js"
import * as KdcTransport from "../../packages/core/src/KdcTransport.js"
import * as Kerberos from "../../packages/core/src/Kerberos.js"

const median = (values: Array<number>) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!
const ms = (value: number) => `${value.toFixed(1)} ms`
const timed = (f: () => unknown, runs = 3) =>
  median(Array.from({ length: runs }, () => {
    const began = performance.now()
    f()
    return performance.now() - began
  }))

console.log("krb5.conf (R9), median of 3 parses:")
const line = `[libdefaults]\ndefault_realm = A${" ".repeat(100_000)}B\n`
console.log(`  a 100 KB line of spaces:              ${ms(timed(() => parseKrb5Conf(line)))}`)
const relation = `[realms]\nx =${" ".repeat(100_000)}y\n`
console.log(`  a 100 KB relation of spaces:          ${ms(timed(() => parseKrb5Conf(relation)))}`)
const kdcs = `[realms]\n CORP.EXAMPLE = {\n${"  kdc = dc.corp.example\n".repeat(60_000)} }\n`
console.log(`  60,000 kdc lines:                     ${ms(timed(() => parseKrb5Conf(kdcs)))}`)
const huge = `[domain_realm]\n${".x = X\n".repeat(3 * 1024 * 1024 / 7)}`
console.log(`  3 MiB of [domain_realm] (1 MiB read): ${ms(timed(() => parseKrb5Conf(huge)))}`)

const password = new TextEncoder().encode("Alice-Password-1")
const salt = new TextEncoder().encode("CORP.EXAMPLEalice")
const derive = (etype: number, iterations: number) =>
  Effect.runPromise(enctypes.find((e) => e.id === etype)!.stringToKey(password, salt, iterations))

console.log(`string-to-key (R6), one derivation each:`)
for (const enctype of enctypes) {
  await derive(enctype.id, 4096)
  let began = performance.now()
  await derive(enctype.id, enctype.defaultIterations)
  const atDefault = performance.now() - began
  began = performance.now()
  await derive(enctype.id, maxIterations)
  console.log(
    `  ${enctype.name.padEnd(27)} default (${enctype.defaultIterations}): ${
      ms(atDefault)
    }, at the cap (${maxIterations}): ${ms(performance.now() - began)}`
  )
}
if (process.argv.includes("--mit")) {
  const began = performance.now()
  await derive(20, 2 ** 24 - 1)
  console.log(`  aes256-cts-hmac-sha384-192 at MIT's limit (2^24 - 1): ${ms(performance.now() - began)}`)
}

// The event loop during a derivation at the cap: how late a 10 ms timer fires, repeatedly.
{
  let worst = 0
  let running = true
  const tick = () => {
    const due = performance.now() + 10
    setTimeout(() => {
      worst = Math.max(worst, performance.now() - due)
      if (running) tick()
    }, 10)
  }
  tick()
  const began = performance.now()
  await derive(20, maxIterations)
  running = false
  console.log(
    `  event loop during it (${ms(performance.now() - began)}): a 10 ms timer fired at most ${ms(worst)} late`
  )
}

// A login against a KDC asking for the cap with enctype 20, then sealing its reply with noise under another salt.
{
  const realm = "CORP.EXAMPLE"
  const krbtgt = { nameType: NameType.srvInst, components: ["krbtgt", realm] }
  const count = new Uint8Array(4)
  new DataView(count.buffer).setUint32(0, maxIterations)
  const offer = (entrySalt: string) => kdc.encodeEtypeInfo2([{ etype: 20, salt: entrySalt, s2kparams: count }])
  let asked = 0
  const layer = KdcTransport.layerMemory(() =>
    Effect.sync(() => {
      asked++
      if (asked === 1) {
        return kdc.encodeKrbError({
          errorCode: 25,
          stime: Date.now(),
          realm,
          sname: krbtgt,
          eText: undefined,
          eData: der.sequence(
            der.sequence(
              der.field(1, der.integer(PaType.etypeInfo2)),
              der.field(2, der.octetString(offer(`${realm}alice`)))
            )
          )
        })
      }
      // A syntactically fine AS-REP, naming another salt, sealed with noise.
      const ticket = der.tlv(
        der.application(1),
        der.sequence(
          der.field(0, der.integer(5)),
          der.field(1, der.generalString(realm)),
          der.field(
            2,
            der.sequence(
              der.field(0, der.integer(2)),
              der.field(1, der.sequence(der.generalString("krbtgt"), der.generalString(realm)))
            )
          ),
          der.field(3, der.sequence(der.field(0, der.integer(20)), der.field(2, der.octetString(new Uint8Array(64)))))
        )
      )
      return kdc.encodeKdcRep({
        msgType: 11,
        padata: [{ type: PaType.etypeInfo2, value: offer("ANOTHER.SALT") }],
        crealm: realm,
        cname: { nameType: 1, components: ["alice"] },
        ticket: {
          realm,
          sname: krbtgt,
          encPart: { etype: 20, kvno: undefined, cipher: new Uint8Array(64) },
          raw: ticket
        },
        encPart: { etype: 20, kvno: undefined, cipher: crypto.getRandomValues(new Uint8Array(128)) }
      })
    })
  )
  const began = performance.now()
  const outcome = await Effect.runPromise(
    Kerberos.getTicket({
      principal: `alice@${realm}`,
      keySource: { _tag: "Password", password: Redacted.make("Alice-Password-1") },
      spn: "HTTP/tpp.corp.example",
      kdc: "kdc.invalid"
    }).pipe(Effect.provide(layer), Effect.either)
  )
  console.log(
    `a login against a KDC asking for ${maxIterations} iterations twice, with two salts: ${
      ms(performance.now() - began)
    } (${outcome._tag === "Left" ? outcome.left._tag : "a ticket"})`
  )
}
