import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, FastCheck as fc, Redacted } from "effect"
import * as ChannelBindings from "../src/ChannelBindings.js"
import { NtlmFailure } from "../src/Failure.js"
import { AvId, encodeAvPairs, findAvPair, parseAvPairs } from "../src/internal/ntlm/avPairs.js"
import { ascii, concat, fromHex, toHex, utf16le } from "../src/internal/ntlm/bytes.js"
import { computeNtlmv2, ntlmv2Blob, ntowfv2 } from "../src/internal/ntlm/ntlmv2.js"
import * as WinNtlm from "../src/Ntlm.js"
import * as NtlmServer from "../src/server/NtlmServer.js"

// The engine throws; these tests read it as Either and Effect (with the password Redacted, as a
// driver holds it), at a fixed time.
const failure = (e: unknown): NtlmFailure => {
  if (e instanceof NtlmFailure) return e
  throw e
}
const Ntlm = {
  negotiate: WinNtlm.negotiate,
  parseChallenge: (message: Uint8Array) => Either.try({ try: () => WinNtlm.parseChallenge(message), catch: failure }),
  authenticate: (
    options: Omit<WinNtlm.AuthenticateOptions, "password" | "now"> & { readonly password: Redacted.Redacted<string> }
  ) =>
    Effect.try({
      try: () =>
        WinNtlm.authenticate({ ...options, password: Redacted.value(options.password), now: Date.UTC(2026, 0, 1) }),
      catch: failure
    }),
  tlsServerEndPoint: (der: Uint8Array) =>
    Either.try({ try: () => ChannelBindings.tlsServerEndPoint(der), catch: failure })
}

// [MS-NLMP] 4.2.4: NTLMv2 authentication test vectors.
const spec = {
  user: "User",
  domain: "Domain",
  password: "Password",
  serverChallenge: fromHex("0123456789abcdef"),
  clientChallenge: fromHex("aaaaaaaaaaaaaaaa"),
  time: new Uint8Array(8),
  targetInfo: concat(
    fromHex("02000c00"),
    utf16le("Domain"),
    fromHex("01000c00"),
    utf16le("Server"),
    fromHex("00000000")
  )
}
// 4.2.4.3 CHALLENGE_MESSAGE: header, target name "Server", TargetInfo.
const SPEC_CHALLENGE = fromHex(
  "4e544c4d53535000" + "02000000" + "0c000c00" + "38000000" + "33828ae2" + "0123456789abcdef" +
    "0000000000000000" + "24002400" + "44000000" + "060070170000000f" + toHex(utf16le("Server")) +
    toHex(spec.targetInfo)
)

const password = Redacted.make("S3cret-pässword!")
const serverChallenge = fromHex("1122334455667788")
const timestamp = NtlmServer.fileTimeFromMillis(Date.UTC(2026, 0, 1))

const serverMessage = (): Uint8Array =>
  NtlmServer.challenge({
    serverChallenge,
    targetName: "CORP",
    timestamp,
    dnsDomain: "corp.example",
    dnsComputer: "tpp.corp.example"
  })

const handshake = (
  options: { readonly username: string; readonly domain: string; readonly channelBindings?: Uint8Array }
) =>
  Effect.gen(function*() {
    const negotiate = Ntlm.negotiate({ domain: options.domain })
    const raw = serverMessage()
    const challenge = yield* Either.match(Ntlm.parseChallenge(raw), { onLeft: Effect.fail, onRight: Effect.succeed })
    const message = yield* Ntlm.authenticate({
      negotiate,
      challenge,
      domain: options.domain,
      username: options.username,
      password,
      targetName: "HTTP/tpp.corp.example",
      ...(options.channelBindings === undefined ? {} : { channelBindings: options.channelBindings })
    })
    const authenticate = Either.getOrThrow(parseAuthenticate(message))
    return { negotiate, raw, message, authenticate }
  })

const verifyWith = (
  h: { negotiate: Uint8Array; raw: Uint8Array; authenticate: WinNtlm.Authenticate },
  extra: Partial<Omit<NtlmServer.VerifyOptions, "password">> & {
    readonly password?: Redacted.Redacted<string> | undefined
  } = {}
) =>
  verify({
    negotiate: h.negotiate,
    challenge: h.raw,
    serverChallenge,
    authenticate: h.authenticate,
    ...extra,
    password: "password" in extra
      ? (extra.password === undefined ? undefined : Redacted.value(extra.password))
      : Redacted.value(password)
  })

// The server half (@vedauth/winauth/server) throws and returns; these tests read it as Either.
function parseAuthenticate(message: Uint8Array): Either.Either<WinNtlm.Authenticate, unknown> {
  return Either.try(() => NtlmServer.parseAuthenticate(message))
}

function verify(options: NtlmServer.VerifyOptions): Either.Either<void, NtlmServer.Rejection> {
  const rejection = NtlmServer.verify(options)
  return rejection === undefined ? Either.void : Either.left(rejection)
}

describe("Ntlm: MS-NLMP 4.2.4 NTLMv2 vectors", () => {
  it("computes NTOWFv2, LMv2, NTProofStr and the session base key", () => {
    const key = ntowfv2(spec.password, spec.user, spec.domain)
    assert.strictEqual(toHex(key), "0c868a403bfd7a93a3001ef22ef02e3f")
    const blob = ntlmv2Blob(spec.time, spec.clientChallenge, spec.targetInfo)
    const response = computeNtlmv2(key, spec.serverChallenge, spec.clientChallenge, blob)
    assert.strictEqual(toHex(response.lmv2Response), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa")
    assert.strictEqual(toHex(response.ntProofStr), "68cd0ab851e51c96aabc927bebef6a1c")
    assert.strictEqual(toHex(response.sessionBaseKey), "8de40ccadbc14a82f15cb0ad0de95ca3")
  })

  it("parses the spec's CHALLENGE_MESSAGE", () => {
    const challenge = Either.getOrThrow(Ntlm.parseChallenge(SPEC_CHALLENGE))
    assert.strictEqual(challenge.targetName, "Server")
    assert.strictEqual(challenge.flags >>> 0, 0xe28a8233)
    assert.strictEqual(toHex(challenge.serverChallenge), "0123456789abcdef")
    assert.strictEqual(toHex(challenge.targetInfo), toHex(spec.targetInfo))
    assert.isUndefined(challenge.timestamp)
    const pairs = parseAvPairs(challenge.targetInfo)
    assert.strictEqual(toHex(findAvPair(pairs, AvId.NbComputerName)!), toHex(utf16le("Server")))
    assert.strictEqual(toHex(encodeAvPairs(pairs)), toHex(spec.targetInfo))
  })
})

describe("Ntlm: NEGOTIATE", () => {
  it("sends the notes' flags and an 8-byte version", () => {
    const message = Ntlm.negotiate()
    assert.strictEqual(message.length, 40)
    assert.strictEqual(toHex(message.subarray(0, 12)), "4e544c4d5353500001000000")
    assert.strictEqual(new DataView(message.buffer).getUint32(12, true), 0xa2088207)
  })

  it("leaves out a non-ASCII domain (OEM field) but keeps an ASCII one", () => {
    assert.strictEqual(Ntlm.negotiate({ domain: "CÖRP" }).length, 40)
    const withDomain = Ntlm.negotiate({ domain: "corp", workstation: "ws1" })
    assert.strictEqual(toHex(withDomain.subarray(40)), toHex(ascii("CORPWS1")))
  })
})

describe("Ntlm: CHALLENGE parsing", () => {
  const withFlags = (flags: number): Uint8Array => {
    const message = SPEC_CHALLENGE.slice()
    new DataView(message.buffer).setUint32(20, flags >>> 0, true)
    return message
  }

  it("refuses an NTLMv1-only CHALLENGE (no TargetInfo, no ESS) with a clear error", () => {
    const v1 = fromHex("4e544c4d53535000020000000000000030000000018202000123456789abcdef0000000000000000")
    const error = Either.getLeft(Ntlm.parseChallenge(v1))
    assert.isTrue(error._tag === "Some" && error.value.detail.includes("NTLMv1"))
    const noEss = Either.getLeft(Ntlm.parseChallenge(withFlags(0xe2828233)))
    assert.isTrue(noEss._tag === "Some" && noEss.value.detail.includes("extended session security"))
  })

  it("rejects a TargetInfo offset inside the header, and fields past the end", () => {
    const inside = SPEC_CHALLENGE.slice()
    new DataView(inside.buffer).setUint32(44, 40, true)
    assert.isTrue(Either.isLeft(Ntlm.parseChallenge(inside)))
    const past = SPEC_CHALLENGE.slice()
    new DataView(past.buffer).setUint16(40, 0xffff, true)
    assert.isTrue(Either.isLeft(Ntlm.parseChallenge(past)))
    assert.isTrue(Either.isLeft(Ntlm.parseChallenge(new Uint8Array(0))))
    assert.isTrue(Either.isLeft(Ntlm.parseChallenge(Ntlm.negotiate())))
  })

  it("reads the server's MsvAvTimestamp", () => {
    const challenge = Either.getOrThrow(Ntlm.parseChallenge(serverMessage()))
    assert.strictEqual(toHex(challenge.timestamp!), toHex(timestamp))
    assert.strictEqual(challenge.targetName, "CORP")
  })

  it("never throws on random, truncated or mutated messages", () => {
    const valid = serverMessage()
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        Ntlm.parseChallenge(bytes)
        Ntlm.parseChallenge(concat(valid.subarray(0, 12), bytes))
      }),
      { numRuns: 500 }
    )
    fc.assert(fc.property(fc.nat({ max: valid.length - 1 }), (length) => {
      assert.isTrue(Either.isLeft(Ntlm.parseChallenge(valid.subarray(0, length))))
    }))
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 8
        }),
        (edits) => {
          const mutated = valid.slice()
          for (const [at, value] of edits) mutated[at] = value
          Ntlm.parseChallenge(mutated)
        }
      ),
      { numRuns: 1000 }
    )
  })
})

describe("Ntlm: AUTHENTICATE and verification", () => {
  it.effect("echoes the server timestamp, sends a zero LM response, MsvAvFlags=2, target name and a MIC", () =>
    Effect.gen(function*() {
      const h = yield* handshake({ username: "jürgen", domain: "CORP" })
      assert.strictEqual(h.authenticate.username, "jürgen")
      assert.strictEqual(toHex(h.authenticate.lmResponse), "00".repeat(24))
      const blob = h.authenticate.ntResponse.subarray(16)
      assert.strictEqual(toHex(blob.subarray(8, 16)), toHex(timestamp))
      const pairs = parseAvPairs(blob.subarray(28))
      assert.strictEqual(toHex(findAvPair(pairs, AvId.Flags)!), "02000000")
      assert.strictEqual(toHex(findAvPair(pairs, AvId.ChannelBindings)!), "00".repeat(16))
      assert.strictEqual(toHex(findAvPair(pairs, AvId.TargetName)!), toHex(utf16le("HTTP/tpp.corp.example")))
      assert.isTrue(h.authenticate.mic !== undefined && h.authenticate.mic.some((b) => b !== 0))
      assert.isTrue(Either.isRight(verifyWith(h)))
    }))

  it.effect("takes the time it is given and sends an LMv2 response when the server sent no timestamp", () =>
    Effect.gen(function*() {
      const challenge = Either.getOrThrow(Ntlm.parseChallenge(SPEC_CHALLENGE))
      const message = yield* Ntlm.authenticate({
        negotiate: Ntlm.negotiate(),
        challenge,
        domain: "Domain",
        username: "User",
        password: Redacted.make("Password")
      })
      const parsed = Either.getOrThrow(parseAuthenticate(message))
      // The adapter above authenticates at 2026-01-01.
      assert.strictEqual(
        toHex(parsed.ntResponse.subarray(24, 32)),
        toHex(NtlmServer.fileTimeFromMillis(Date.UTC(2026, 0, 1)))
      )
      assert.strictEqual(parsed.lmResponse.length, 24)
      assert.notStrictEqual(toHex(parsed.lmResponse), "00".repeat(24))
    }))

  it.effect("uses a fresh client challenge each time", () =>
    Effect.gen(function*() {
      const a = yield* handshake({ username: "u", domain: "" })
      const b = yield* handshake({ username: "u", domain: "" })
      assert.notStrictEqual(
        toHex(a.authenticate.ntResponse.subarray(32, 40)),
        toHex(b.authenticate.ntResponse.subarray(32, 40))
      )
    }))

  it.effect("round-trips for any user and domain, and rejects a wrong password and a flipped MIC byte", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 20 }),
          fc.string({ maxLength: 15 }),
          fc.string({ minLength: 1, maxLength: 12 }),
          fc.nat({ max: 15 }),
          async (username, domain, wrong, micByte) => {
            const h = await Effect.runPromise(handshake({ username, domain }))
            assert.isTrue(Either.isRight(verifyWith(h)))
            if (wrong !== Redacted.value(password)) {
              assert.deepStrictEqual(verifyWith(h, { password: Redacted.make(wrong) }), Either.left("bad-proof"))
            }
            const raw = h.authenticate.raw.slice()
            raw[72 + micByte]! ^= 0x01
            const tampered = Either.getOrThrow(parseAuthenticate(raw))
            assert.deepStrictEqual(verifyWith(h, { authenticate: tampered }), Either.left("bad-mic"))
            // A changed user name invalidates the proof.
            assert.isTrue(
              Either.isLeft(verifyWith(h, { authenticate: { ...h.authenticate, username: username + "x" } }))
            )
          }
        ),
        { numRuns: 40 }
      )
    ))

  it.effect("verifies channel bindings over TLS", () =>
    Effect.gen(function*() {
      const bindings = concat(ascii("tls-server-end-point:"), new Uint8Array(32).fill(7))
      const bound = yield* handshake({ username: "u", domain: "D", channelBindings: bindings })
      assert.isTrue(Either.isRight(verifyWith(bound, { channelBindings: bindings, requireChannelBindings: true })))
      const other = concat(ascii("tls-server-end-point:"), new Uint8Array(32).fill(8))
      assert.deepStrictEqual(verifyWith(bound, { channelBindings: other }), Either.left("bad-channel-bindings"))
      const unbound = yield* handshake({ username: "u", domain: "D" })
      assert.deepStrictEqual(
        verifyWith(unbound, { channelBindings: bindings, requireChannelBindings: true }),
        Either.left("missing-channel-bindings")
      )
      assert.isTrue(Either.isRight(verifyWith(unbound, { channelBindings: bindings })))
    }))

  it.effect("reports an unknown user, an NTLMv1 response and a missing MIC", () =>
    Effect.gen(function*() {
      const h = yield* handshake({ username: "u", domain: "D" })
      assert.deepStrictEqual(verifyWith(h, { password: undefined }), Either.left("unknown-user"))
      assert.deepStrictEqual(
        verifyWith(h, { authenticate: { ...h.authenticate, ntResponse: new Uint8Array(24) } }),
        Either.left("ntlmv1")
      )
      assert.deepStrictEqual(
        verifyWith(h, { authenticate: { ...h.authenticate, mic: undefined } }),
        Either.left("missing-mic")
      )
    }))

  it.effect("parseAuthenticate never throws on random, truncated or mutated messages", () =>
    Effect.gen(function*() {
      const h = yield* handshake({ username: "jürgen", domain: "CORP" })
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
          parseAuthenticate(bytes)
          parseAuthenticate(concat(h.message.subarray(0, 12), bytes))
        }),
        { numRuns: 500 }
      )
      fc.assert(fc.property(fc.nat({ max: h.message.length - 1 }), (length) => {
        const parsed = parseAuthenticate(h.message.subarray(0, length))
        if (Either.isRight(parsed)) assert.isTrue(Either.isLeft(verifyWith({ ...h, authenticate: parsed.right })))
      }))
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat({ max: h.message.length - 1 }), fc.integer({ min: 0, max: 255 })), {
            minLength: 1,
            maxLength: 8
          }),
          (edits) => {
            const mutated = h.message.slice()
            for (const [at, value] of edits) mutated[at] = value
            const parsed = parseAuthenticate(mutated)
            if (Either.isRight(parsed)) {
              verifyWith({ ...h, authenticate: parsed.right })
            }
          }
        ),
        { numRuns: 1000 }
      )
    }))

  it.effect("never puts the password in an error", () =>
    Effect.gen(function*() {
      const challenge = Either.getOrThrow(Ntlm.parseChallenge(serverMessage()))
      const error = yield* Effect.flip(Ntlm.authenticate({
        negotiate: Ntlm.negotiate(),
        challenge: { ...challenge, targetInfo: Uint8Array.of(1, 0, 9) },
        domain: "D",
        username: "u",
        password
      }))
      assert.strictEqual(error._tag, "NtlmFailure")
      const secret = Redacted.value(password)
      for (const text of [error.message, String(error), JSON.stringify(error)]) assert.isFalse(text.includes(secret))
    }))
})

describe("Ntlm: tls-server-end-point", () => {
  // Throwaway self-signed certificates made with the openssl CLI; hashes from `openssl dgst`.
  const ecdsaSha384 =
    "MIIBqTCCATCgAwIBAgIUE/a6kfWol7IEqMALZFdCjrI3N7EwCgYIKoZIzj0EAwMwDDEKMAgGA1UEAwwBdDAeFw0yNjExMjgxNTIyMjRaFw0zNjExMjUxNTIyMjRaMAwxCjAIBgNVBAMMAXQwdjAQBgcqhkjOPQIBBgUrgQQAIgNiAAQQxUM4HTZrk61r84+Bm8X2HdNIglMbfhNMNVxP20EToV/m1fVcG46j8u9Jg2aRTXAjrm0R83QsTbxrgyVXtowJFS48LG2NXg+xWAaoMSYYwAWxPOZ/hKFjB97J2ienWq2jUzBRMB0GA1UdDgQWBBRnA4QF1npOWEaBx7FEAr9B0dktlDAfBgNVHSMEGDAWgBRnA4QF1npOWEaBx7FEAr9B0dktlDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMDA2cAMGQCMFqeXVrxl0YcYNR32WA4ThYBlNW1gdUa21bW5q40LjUJk+yzK/MhVIF56UUkqW9cJgIwfE4JJoLhgS94yFkgHZQTUEltfGGzeYkIOFUWuGn5UOaRQwp8p+1LLQYQ0yB8X4HD"
  const ecdsaSha1 =
    "MIIBazCCARKgAwIBAgIUby6q3QAgI4/7q3paO3NLuaTCsngwCQYHKoZIzj0EATAMMQowCAYDVQQDDAF0MB4XDTI2MTEyODE1MjIyNFoXDTM2MTEyNTE1MjIyNFowDDEKMAgGA1UEAwwBdDBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABEwX235UbbD6q59yJui/R/SXs3tdnEbYx3GXpafGRlBcuQFYMddZq3hZ8iQPX11q5WBE9fIgM5N8sDDR7g+kAO+jUzBRMB0GA1UdDgQWBBTF8mZpqEyLQQeSEofh9zVIiUviNTAfBgNVHSMEGDAWgBTF8mZpqEyLQQeSEofh9zVIiUviNTAPBgNVHRMBAf8EBTADAQH/MAkGByqGSM49BAEDSAAwRQIhAMwQ7Z0YSIrk72iYoliGBG8rxkejpQmuN74JCetgr2nmAiA0WatN3WmpAmhyvBKud0Vf72LaZPRJi3tcJiwwiRgk/A=="
  const ecdsaSha256 =
    "MIIBbTCCAROgAwIBAgIUUqapvR0SOaHjTNVzHhMC9N3eRxwwCgYIKoZIzj0EAwIwDDEKMAgGA1UEAwwBdDAeFw0yNjExMjgxNTIyMjRaFw0zNjExMjUxNTIyMjRaMAwxCjAIBgNVBAMMAXQwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATduHc/EuYyHINZuVaoNIlmZxyEnzU9uk7TH+MdWv6noFIUKuCiZmU6Oc7caYtTlM1u2fiFR5u9LRG2QyNDz3MXo1MwUTAdBgNVHQ4EFgQUGgvXjetDuFak1tx4QIRp3PoS3z0wHwYDVR0jBBgwFoAUGgvXjetDuFak1tx4QIRp3PoS3z0wDwYDVR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEAknUZchqf92VtuV+Ang7vZYWo9SMP9pjKfslK9PM9EY8CIBC13EEbsAJMBjRPLfw19QFTK2PrgqlrQ1OFT4y5aRK9"
  const der = (base64: string) => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))
  const hashOf = (base64: string) =>
    toHex(Either.getOrThrow(Ntlm.tlsServerEndPoint(der(base64))).subarray("tls-server-end-point:".length))

  it("uses the signature hash, and SHA-256 in place of SHA-1", () => {
    assert.strictEqual(
      hashOf(ecdsaSha384),
      "a60e3d37ec6f3206f48d413ee546f8ece64aaf23b9abf441544ac8af790b085e96933971e8de88cc0876e7e862fed5ae"
    )
    assert.strictEqual(hashOf(ecdsaSha1), "a3a84aafb34d6b99ba482366ae9e70f822d968f7a1c363c1ad44f2eb42e59947")
    assert.strictEqual(hashOf(ecdsaSha256), "6b05931fc2a86f05b2cd9f2b61f9f85bd0fbd147eb22374a78730495f66242ac")
    const prefix = Either.getOrThrow(Ntlm.tlsServerEndPoint(der(ecdsaSha256))).subarray(0, 21)
    assert.strictEqual(toHex(prefix), toHex(ascii("tls-server-end-point:")))
  })

  it("fails, never throws, on bytes that are not a certificate", () => {
    const valid = der(ecdsaSha256)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: valid.length - 1 }), (bytes, cut) => {
        Ntlm.tlsServerEndPoint(bytes)
        Ntlm.tlsServerEndPoint(concat(Uint8Array.of(0x30, 0x82), bytes))
        Ntlm.tlsServerEndPoint(valid.subarray(0, cut))
      }),
      { numRuns: 500 }
    )
    assert.isTrue(Either.isLeft(Ntlm.tlsServerEndPoint(valid.subarray(0, 100))))
  })
})
