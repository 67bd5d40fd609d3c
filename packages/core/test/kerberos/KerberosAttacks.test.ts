/**
 * Issue #21's attacks from a hostile KDC (R1, R6, R8) and a hostile krb5.conf (R9), each reproduced
 * against the client: weak or malformed PBKDF2 parameters, absurd iteration counts and salts that
 * change between the pre-authentication offer and the reply, a KDC that never answers, a megabyte
 * of e-text, and a krb5.conf built to make a backtracking parser crawl. docs/security.md lists them.
 */
import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { makeKdc } from "@vedauth/test-helpers/kerberosServers"
import { maxPeerText as maxServerText } from "@vedauth/winauth/PeerText"
import { Duration, Effect, Either, Fiber, Layer, Option, Redacted, TestClock } from "effect"
import { vi } from "vitest"
import * as der from "../../../winauth/src/internal/kerberos/der.js"
import { enctypeById, enctypes, maxIterations } from "../../../winauth/src/internal/kerberos/enctypes.js"
import { TokId, wrapKrb5 } from "../../../winauth/src/internal/kerberos/gssToken.js"
import { badS2kParams } from "../../../winauth/src/internal/kerberos/kdcClient.js"
import * as kdc from "../../../winauth/src/internal/kerberos/kdcMessages.js"
import {
  maxDomainRealms,
  maxKdcsPerRealm,
  maxKrb5ConfChars,
  parseKrb5Conf
} from "../../../winauth/src/internal/kerberos/krb5conf.js"
import { NameType, PaType } from "../../../winauth/src/internal/kerberos/types.js"
import * as errors from "../../src/internal/errors.js"
import * as KdcTransport from "../../src/KdcTransport.js"
import * as Kerberos from "../../src/Kerberos.js"
import { NtlmTransport } from "../../src/NtlmTransport.js"
import * as TokenStore from "../../src/TokenStore.js"
import * as VedAuth from "../../src/VedAuth.js"
import { TransportError } from "../../src/VedAuthError.js"
import { mintTicket, REALM, serviceKeytab, SPN } from "./support.js"

const now = Date.UTC(2026, 0, 15, 9)
const password = Redacted.make("Alice-Password-1")
const options: Kerberos.TicketOptions = {
  principal: `alice@${REALM}`,
  keySource: { _tag: "Password", password },
  spn: SPN,
  kdc: "kdc.invalid"
}
const krbtgt = { nameType: NameType.srvInst, components: ["krbtgt", REALM] }

const u32 = (n: number) => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, n)
  return bytes
}

/** KDC_ERR_PREAUTH_REQUIRED offering one ETYPE-INFO2 entry. */
const preauthRequired = (etype: number, salt: string, s2kparams: Uint8Array | undefined) =>
  kdc.encodeKrbError({
    errorCode: 25,
    stime: now,
    realm: REALM,
    sname: krbtgt,
    eText: undefined,
    eData: der.sequence(
      der.sequence(
        der.field(1, der.integer(PaType.etypeInfo2)),
        der.field(2, der.octetString(kdc.encodeEtypeInfo2([{ etype, salt, s2kparams }])))
      )
    )
  })

/** A KDC answering every message with `answer`, keeping what it was sent. */
const scriptedKdc = (answer: (message: Uint8Array, index: number) => Uint8Array) => {
  const received: Array<Uint8Array> = []
  const layer = KdcTransport.layerMemory((_, message) => Effect.sync(() => answer(message, received.push(message) - 1)))
  return { received, layer }
}

/** One turn of the event loop (real time, not the TestClock's): for the work WebCrypto does off it. */
const nextTurn = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))

/** Whether an AS-REQ carries an encrypted timestamp: something derived from the password. */
const sendsTimestamp = (message: Uint8Array) =>
  kdc.decodeKdcReq(message).padata.some((p) => p.type === PaType.encTimestamp)

/** Runs `effect` counting every string-to-key derivation (all enctypes), through to the real ones. */
const countingDerivations = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => enctypes.map((e) => vi.spyOn(e, "stringToKey"))),
    (spies) =>
      Effect.map(Effect.either(effect), (result) => ({
        result,
        derivations: spies.reduce((n, spy) => n + spy.mock.calls.length, 0),
        calls: spies.flatMap((spy) => spy.mock.calls)
      })),
    (spies) => Effect.sync(() => spies.forEach((spy) => spy.mockRestore()))
  )

/** Our KDC with alice's and the service's keys, whose replies `rewrite` may change (a hostile KDC). */
const realKdc = (rewrite: (reply: Uint8Array) => Uint8Array = (reply) => reply) =>
  Effect.gen(function*() {
    const principal = yield* Kerberos.parsePrincipal(`alice@${REALM}`)
    const kdcServer = makeKdc({
      realm: REALM,
      keytabs: [yield* Kerberos.keytabFromPassword(principal, password), serviceKeytab]
    })
    const received: Array<Uint8Array> = []
    const layer = KdcTransport.layerMemory((_, message) => {
      received.push(message)
      return Effect.map(kdcServer.handle(message), rewrite)
    })
    return { received, layer }
  })

/** An AS-REP whose ETYPE-INFO2 names `salt`, and (when `garble`) whose sealed part is noise. */
const withAnotherSalt = (salt: string, garble: boolean) => (reply: Uint8Array) => {
  if (kdc.messageTag(reply) !== kdc.MsgType.asRep) return reply
  const rep = kdc.decodeKdcRep(reply, kdc.MsgType.asRep)
  const cipher = garble ? crypto.getRandomValues(new Uint8Array(rep.encPart.cipher.length)) : rep.encPart.cipher
  return kdc.encodeKdcRep({
    ...rep,
    padata: [{
      type: PaType.etypeInfo2,
      value: kdc.encodeEtypeInfo2([{ etype: rep.encPart.etype, salt, s2kparams: undefined }])
    }],
    encPart: { ...rep.encPart, cipher }
  })
}

describe("R1: a KDC offering weak or malformed PBKDF2 parameters (s2kparams)", () => {
  it.effect("1 iteration, fewer than the enctype's default, or s2kparams not 4 bytes long: KRB5_ERR_BAD_S2K_PARAMS, and nothing derived from the password is sent", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const offers: ReadonlyArray<readonly [number, Uint8Array, string]> = [
        [18, u32(1), "PBKDF2 iterations"],
        [17, u32(4095), "fewer than the 4096"],
        [20, u32(1), "PBKDF2 iterations"],
        [19, u32(32767), "fewer than the 32768"],
        [18, new Uint8Array(0), "0 bytes long"],
        [18, Uint8Array.of(0, 0x10, 0), "3 bytes long"],
        [20, Uint8Array.of(0, 0, 0x80, 0, 0), "5 bytes long"]
      ]
      for (const [etype, params, words] of offers) {
        const peer = scriptedKdc(() => preauthRequired(etype, `${REALM}alice`, params))
        const { derivations, result } = yield* countingDerivations(
          Kerberos.getTicket(options).pipe(Effect.provide(peer.layer))
        )
        const what = `etype ${etype}, s2kparams ${Array.from(params).join(",")}`
        assert.isTrue(Either.isLeft(result), what)
        const error = Either.isLeft(result) ? result.left : undefined
        assert.strictEqual(error?._tag, "KerberosError", what)
        if (error?._tag === "KerberosError") assert.strictEqual(error.reason, badS2kParams, what)
        assert.include(error?.message, words, what)
        assert.strictEqual(derivations, 0, `${what}: no key derived`)
        assert.strictEqual(peer.received.length, 1, `${what}: no second AS-REQ`)
        assert.isFalse(sendsTimestamp(peer.received[0]!), what)
      }
    }))

  it.effect("the defaults (4096 for the SHA-1 enctypes, 32768 for the SHA-2 ones) are used as offered", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      for (const [etype, iterations] of [[18, 4096], [17, 4096], [20, 32768], [19, 32768]] as const) {
        const peer = scriptedKdc((_, index) =>
          index === 0
            ? preauthRequired(etype, `${REALM}alice`, u32(iterations))
            : kdc.encodeKrbError({
              errorCode: 24,
              stime: now,
              realm: REALM,
              sname: krbtgt,
              eText: "Preauthentication failed"
            })
        )
        const { calls } = yield* countingDerivations(Kerberos.getTicket(options).pipe(Effect.provide(peer.layer)))
        assert.strictEqual(peer.received.length, 2)
        assert.isTrue(sendsTimestamp(peer.received[1]!))
        assert.deepStrictEqual(calls.map((call) => call[2]), [iterations])
      }
    }))
})

/**
 * VedAuth with vedauth's own Kerberos (password, `mechanism: "kerberos"`, a 10-second request
 * timeout) on `kdcLayer`, and an HTTP handshake transport that enforces timeouts itself and keeps
 * what it is asked: the transport whose own timeout never covered the KDC trips.
 */
const kerberosVedAuth = (kdcLayer: Layer.Layer<KdcTransport.KdcTransport>, request: NtlmTransport["Type"]["request"]) =>
  VedAuth.layer({
    url: "https://tpp.vedauth.test",
    clientId: "vedauth-test",
    scope: "certificate:manage",
    username: `alice@${REALM}`,
    password,
    mechanism: "kerberos",
    kerberos: { kdc: "kdc.invalid" },
    requestTimeout: "10 seconds"
  }).pipe(Layer.provide(Layer.mergeAll(
    kdcLayer,
    Layer.succeed(NtlmTransport, { request, enforcesTimeout: true }),
    Layer.succeed(HttpClient.HttpClient, HttpClient.make(() => Effect.never)),
    TokenStore.layerMemory
  )))

describe("R6: a KDC asking for the most work, twice", () => {
  it.effect("2^24 iterations with enctype 20 (the attack: 19 s of CPU per derivation): refused before any key is derived", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      for (const count of [2 ** 24, maxIterations + 1]) {
        const peer = scriptedKdc(() => preauthRequired(20, "another salt", u32(count)))
        const { derivations, result } = yield* countingDerivations(
          Kerberos.getTicket(options).pipe(Effect.provide(peer.layer))
        )
        assert.isTrue(
          Either.isLeft(result) && result.left._tag === "KerberosError" && result.left.reason === badS2kParams
        )
        assert.include(
          Either.isLeft(result) ? result.left.message : "",
          `more than vedauth's limit of ${maxIterations}`
        )
        assert.strictEqual(derivations, 0)
        assert.strictEqual(peer.received.length, 1)
      }
    }))

  it.effect("each string-to-key is derived once per login: an AS-REP that names the pre-authentication's salt again costs no second derivation", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      // Our KDC repeats ETYPE-INFO2 in the AS-REP, as MIT and Active Directory do.
      const peer = yield* realKdc()
      const { derivations, result } = yield* countingDerivations(
        Kerberos.getTicket(options).pipe(Effect.provide(peer.layer))
      )
      assert.isTrue(Either.isRight(result))
      assert.strictEqual(derivations, 1)
    }))

  it.effect("another salt in the AS-REP: no derivation when the reply is sealed with the pre-authentication key; one more (once) when it is not", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const sealed = yield* realKdc(withAnotherSalt("ANOTHER.SALTmallory", false))
      const ok = yield* countingDerivations(Kerberos.getTicket(options).pipe(Effect.provide(sealed.layer)))
      assert.isTrue(Either.isRight(ok.result))
      assert.strictEqual(ok.derivations, 1)
      const noise = yield* realKdc(withAnotherSalt("ANOTHER.SALTmallory", true))
      const refused = yield* countingDerivations(Kerberos.getTicket(options).pipe(Effect.provide(noise.layer)))
      assert.isTrue(Either.isLeft(refused.result) && refused.result.left._tag === "AuthenticationFailed")
      assert.strictEqual(refused.derivations, 2, "one for each salt, each once")
    }))

  it.effect("the whole authorize under one deadline: a KDC that never answers ends the login at the request timeout, even with a transport that enforces its own", () =>
    Effect.gen(function*() {
      const seen: Array<unknown> = []
      const layer = kerberosVedAuth(
        KdcTransport.layerMemory(() => Effect.never),
        (request) => Effect.sync(() => seen.push(request)).pipe(Effect.zipRight(Effect.never))
      )
      const fiber = yield* Effect.fork(VedAuth.authorize().pipe(Effect.provide(layer)))
      yield* TestClock.adjust("9 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 second")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "TransportError")
      assert.include(error.message, "no Kerberos ticket within 10s")
      assert.strictEqual(seen.length, 0, "no HTTP request")
    }))

  it.effect("the HTTP handshake gets what the KDC round trips left of the timeout", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const principal = yield* Kerberos.parsePrincipal(`alice@${REALM}`)
      const realm = makeKdc({
        realm: REALM,
        keytabs: [yield* Kerberos.keytabFromPassword(principal, password), serviceKeytab]
      })
      const timeouts: Array<number | undefined> = []
      const asked: Array<Uint8Array> = []
      const layer = kerberosVedAuth(
        // Each KDC answer takes a second: AS, AS with pre-authentication, TGS.
        KdcTransport.layerMemory((_, message) =>
          Effect.zipRight(
            Effect.sync(() => asked.push(message)).pipe(Effect.zipRight(Effect.sleep("1 second"))),
            realm.handle(message)
          )
        ),
        (request) =>
          Effect.sync(() =>
            timeouts.push(request.timeout === undefined ? undefined : Duration.toMillis(request.timeout))
          ).pipe(
            Effect.zipRight(Effect.fail(new TransportError({ detail: "the transport's own timeout" })))
          )
      )
      const fiber = yield* Effect.fork(VedAuth.authorize().pipe(Effect.provide(layer)))
      for (let answered = 1; answered <= 3; answered++) {
        // The key is derived in real time between the answers; the TestClock moves once the KDC has the next message.
        while (asked.length < answered) yield* nextTurn
        yield* TestClock.adjust("1 second")
      }
      yield* Effect.flip(Fiber.join(fiber))
      assert.deepStrictEqual(timeouts, [7000])
    }))

  it.effect("a derivation at the cap runs off the event loop: the deadline ends the login while the key is still being derived", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      const enctype = enctypeById(20)!
      let started = false
      let done = false
      let work: Promise<unknown> = Promise.resolve()
      // The real derivation, watched from outside the fiber: whether it still runs when the login has ended.
      const original = enctype.stringToKey
      const spy = vi.spyOn(enctype, "stringToKey").mockImplementation((p, s, i) => {
        started = true
        const real = original(p, s, i)
        work = real.then(() => void (done = true))
        return real
      })
      const peer = scriptedKdc(() => preauthRequired(20, `${REALM}alice`, u32(maxIterations)))
      const fiber = yield* Effect.fork(
        Kerberos.getTicket(options).pipe(Effect.provide(peer.layer), Effect.timeout("1 second"), Effect.either)
      )
      while (!started) yield* nextTurn
      // A derivation that held the event loop would be over by the next turn.
      yield* nextTurn
      assert.isFalse(done, "the derivation runs off the event loop")
      yield* TestClock.adjust("1 second")
      const outcome = yield* Fiber.join(fiber)
      const stillRunning = !done
      spy.mockRestore()
      yield* Effect.promise(() => work)
      assert.isTrue(Either.isLeft(outcome) && outcome.left._tag === "TimeoutException", "the deadline ended the login")
      assert.isTrue(stillRunning, "while the key was still being derived")
      assert.strictEqual(peer.received.length, 1, "nothing derived from the password was sent")
    }))
})

describe("R8: a KDC's (or server's) text is cut to a bounded length wherever it is shown", () => {
  const megabyte = "A".repeat(1024 * 1024)
  const bounded = (text: string | undefined) => {
    assert.isDefined(text)
    assert.isBelow(text!.length, maxServerText + 600, "the KDC's text is cut")
    assert.include(text!, "more characters cut")
  }

  it.effect("1 MB of e-text in a KRB-ERROR: the error keeps 512 characters of it and says it was cut", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(now)
      for (const code of [12, 24]) {
        const peer = scriptedKdc(() =>
          kdc.encodeKrbError({ errorCode: code, stime: now, realm: REALM, sname: krbtgt, eText: megabyte })
        )
        const error = yield* Effect.flip(Kerberos.getTicket(options).pipe(Effect.provide(peer.layer)))
        bounded(error.message)
        bounded(JSON.stringify(error))
      }
    }))

  it.effect("1 MB of e-text in the server's KRB-ERROR (the answer to our AP-REQ)", () =>
    Effect.gen(function*() {
      const initiator = yield* Kerberos.initiate(mintTicket({ now }), { spnego: false })
      const refusal = wrapKrb5(
        TokId.error,
        kdc.encodeKrbError({ errorCode: 41, stime: now, realm: REALM, sname: krbtgt, eText: megabyte })
      )
      const error = yield* Effect.flip(initiator.complete(refusal))
      bounded(error.message)
    }))

  it("a server's reason phrase or error_description of 1 MB", () => {
    const error = errors.fromFailure({
      endpoint: "authorize",
      status: 400,
      reason: megabyte,
      body: JSON.stringify({ error: "invalid_grant", error_description: megabyte }),
      secrets: []
    })
    bounded(error.message)
    bounded("description" in error ? error.description : undefined)
    bounded("reason" in error ? error.reason : undefined)
  })
})

describe("R9: krb5.conf parsed in linear time and bounded size", () => {
  // No clock here: the inputs took the former (quadratic) parser 17 s and 35 s on this
  // project's machine, past the test's timeout; one pass takes milliseconds.
  it("a 100 KB line of spaces and 60,000 kdc lines parse in one pass", () => {
    const spaces = parseKrb5Conf(
      `[libdefaults]\ndefault_realm = A${" ".repeat(100_000)}B\n[realms]\nx =${" ".repeat(100_000)}y\n`
    )
    assert.strictEqual(spaces.defaultRealm, `A${" ".repeat(100_000)}B`)
    assert.strictEqual(spaces.kdcs.size, 0)
    const kdcs = parseKrb5Conf(`[realms]\n CORP.EXAMPLE = {\n${"  kdc = dc.corp.example\n".repeat(60_000)} }\n`)
    assert.strictEqual(kdcs.kdcs.get("CORP.EXAMPLE")?.length, maxKdcsPerRealm)
    assert.include(kdcs.truncated, `more than ${maxKdcsPerRealm} KDCs`)
  })

  it("past the size cap the rest is left out, and the result says so; the values kept are capped", () => {
    const head = "[libdefaults]\n default_realm = CORP.EXAMPLE\n[domain_realm]\n"
    const big = parseKrb5Conf(
      `${head}${".x = X\n".repeat(maxKrb5ConfChars / 7)}[libdefaults]\n default_realm = LATE.EXAMPLE\n`
    )
    assert.strictEqual(big.defaultRealm, "CORP.EXAMPLE", "what lies past the cap is not read")
    assert.include(big.truncated, `first ${maxKrb5ConfChars} characters`)
    assert.strictEqual(big.domainRealm.length, maxDomainRealms)
    assert.include(big.truncated, `more than ${maxDomainRealms} [domain_realm] entries`)
    assert.isUndefined(parseKrb5Conf(head).truncated)
  })

  it("a subsection inside a realm no longer ends the realm (the KDC after it is kept)", () => {
    const conf = parseKrb5Conf(
      "[realms]\n CORP.EXAMPLE = {\n  kdc = dc1\n  auth_to_local = {\n   RULE:x\n  }\n  kdc = dc2\n }\n OTHER = {\n  kdc = o1\n }\n"
    )
    assert.deepStrictEqual(conf.kdcs.get("CORP.EXAMPLE"), ["dc1", "dc2"])
    assert.deepStrictEqual(conf.kdcs.get("OTHER"), ["o1"])
    assert.isFalse(conf.kdcs.has("auth_to_local"))
  })
})
