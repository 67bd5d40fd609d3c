import { assert, describe, it } from "@effect/vitest"
import { Effect, FastCheck } from "effect"
import { ctsDecrypt, ctsEncrypt } from "../src/internal/kerberos/cts.js"
import { deriveKey, EncType, enctypeById, enctypes } from "../src/internal/kerberos/enctypes.js"
import { nfold } from "../src/internal/kerberos/nfold.js"
import { fromHex, toHex } from "../src/internal/ntlm/bytes.js"

const text = (s: string) => new TextEncoder().encode(s)
const enctype = (id: number) => {
  const found = enctypeById(id)
  if (found === undefined) throw new Error(`no enctype ${id}`)
  return found
}

describe("RFC 3961 appendix A.1 n-fold", () => {
  const vectors: ReadonlyArray<[string, number, string]> = [
    ["012345", 64, "be072631276b1955"],
    ["password", 56, "78a07b6caf85fa"],
    ["Rough Consensus, and Running Code", 64, "bb6ed30870b7f0e0"],
    ["password", 168, "59e4a8ca7c0385c3c37b3f6d2000247cb6e6bd5b3e"],
    ["MASSACHVSETTS INSTITVTE OF TECHNOLOGY", 192, "db3b0d8f0b061e603282b308a50841229ad798fab9540c1b"],
    ["Q", 168, "518a54a215a8452a518a54a215a8452a518a54a215"],
    ["ba", 168, "fb25d531ae8974499f52fd92ea9857c4ba24cf297e"],
    ["kerberos", 64, "6b65726265726f73"],
    ["kerberos", 128, "6b65726265726f737b9b5b2b93132b93"],
    ["kerberos", 168, "8372c236344e5f1550cd0747e15d62ca7a5a3bcea4"],
    ["kerberos", 256, "6b65726265726f737b9b5b2b93132b935c9bdcdad95c9899c4cae4dee6d6cae4"]
  ]
  for (const [input, bits, expected] of vectors) {
    it(`${bits}-fold("${input}")`, () => assert.strictEqual(toHex(nfold(text(input), bits / 8)), expected))
  }
})

describe("RFC 3962 appendix B: CBC with ciphertext stealing", () => {
  const key = text("chicken teriyaki")
  const plain = text("I would like the General Gau's Chicken, please, and wonton soup.")
  const vectors: ReadonlyArray<[number, string]> = [
    [17, "c6353568f2bf8cb4d8a580362da7ff7f97"],
    [31, "fc00783e0efdb2c1d445d4c8eff7ed2297687268d6ecccc0c07b25e25ecfe5"],
    [32, "39312523a78662d5be7fcbcc98ebf5a897687268d6ecccc0c07b25e25ecfe584"],
    [47, "97687268d6ecccc0c07b25e25ecfe584b3fffd940c16a18c1b5549d2f838029e39312523a78662d5be7fcbcc98ebf5"],
    [48, "97687268d6ecccc0c07b25e25ecfe5849dad8bbb96c4cdc03bc103e1a194bbd839312523a78662d5be7fcbcc98ebf5a8"],
    [
      64,
      "97687268d6ecccc0c07b25e25ecfe58439312523a78662d5be7fcbcc98ebf5a84807efe836ee89a526730dbc2f7bc8409dad8bbb96c4cdc03bc103e1a194bbd8"
    ]
  ]
  for (const [length, expected] of vectors) {
    it(`${length} bytes`, () => {
      assert.strictEqual(toHex(ctsEncrypt(key, plain.subarray(0, length))), expected)
      assert.strictEqual(toHex(ctsDecrypt(key, fromHex(expected))), toHex(plain.subarray(0, length)))
    })
  }
  it("decrypt inverts encrypt for every length from one block up", () =>
    FastCheck.assert(
      FastCheck.property(
        FastCheck.uint8Array({ minLength: 32, maxLength: 32 }),
        FastCheck.uint8Array({ minLength: 16, maxLength: 100 }),
        (k, p) => {
          assert.deepStrictEqual(ctsDecrypt(k, ctsEncrypt(k, p)), p)
        }
      )
    ))
})

describe("RFC 3962 appendix B: string-to-key", () => {
  const vectors: ReadonlyArray<[string, Uint8Array, number, string, string]> = [
    [
      "password",
      text("ATHENA.MIT.EDUraeburn"),
      1,
      "42263c6e89f4fc28b8df68ee09799f15",
      "fe697b52bc0d3ce14432ba036a92e65bbb52280990a2fa27883998d72af30161"
    ],
    [
      "password",
      text("ATHENA.MIT.EDUraeburn"),
      2,
      "c651bf29e2300ac27fa469d693bdda13",
      "a2e16d16b36069c135d5e9d2e25f896102685618b95914b467c67622225824ff"
    ],
    [
      "password",
      text("ATHENA.MIT.EDUraeburn"),
      1200,
      "4c01cd46d632d01e6dbe230a01ed642a",
      "55a6ac740ad17b4846941051e1e8b0a7548d93b0ab30a8bc3ff16280382b8c2a"
    ],
    [
      "password",
      fromHex("1234567878563412"),
      5,
      "e9b23d52273747dd5c35cb55be619d8e",
      "97a4e786be20d81a382d5ebc96d5909cabcdadc87ca48f574504159f16c36e31"
    ],
    [
      "X".repeat(64),
      text("pass phrase equals block size"),
      1200,
      "59d1bb789a828b1aa54ef9c2883f69ed",
      "89adee3608db8bc71f1bfbfe459486b05618b70cbae22092534e56c553ba4b34"
    ]
  ]
  for (const [password, salt, iterations, aes128, aes256] of vectors) {
    it.effect(`${password.slice(0, 8)}, ${iterations} iterations`, () =>
      Effect.gen(function*() {
        assert.strictEqual(
          toHex(
            yield* Effect.promise(() =>
              enctype(EncType.aes128CtsHmacSha196).stringToKey(text(password), salt, iterations)
            )
          ),
          aes128
        )
        assert.strictEqual(
          toHex(
            yield* Effect.promise(() =>
              enctype(EncType.aes256CtsHmacSha196).stringToKey(text(password), salt, iterations)
            )
          ),
          aes256
        )
      }))
  }
})

describe("RFC 8009 appendix A", () => {
  const salt = fromHex("10df9dd783e5bc8acea1730e74355f61" + toHex(text("ATHENA.MIT.EDUraeburn")))
  it.effect("string-to-key", () =>
    Effect.gen(function*() {
      assert.strictEqual(
        toHex(
          yield* Effect.promise(() =>
            enctype(EncType.aes128CtsHmacSha256128).stringToKey(text("password"), salt, 32768)
          )
        ),
        "089bca48b105ea6ea77ca5d2f39dc5e7"
      )
      assert.strictEqual(
        toHex(
          yield* Effect.promise(() =>
            enctype(EncType.aes256CtsHmacSha384192).stringToKey(text("password"), salt, 32768)
          )
        ),
        "45bd806dbf6a833a9cffc1c94589a222367a79bc21c413718906e9f578a78467"
      )
    }))
  const base128 = fromHex("3705d96080c17728a0e800eab6e0d23c")
  const base256 = fromHex("6d404d37faf79f9df0d33568d320669800eb4836472ea8a026d16b7182460c52")
  const usage2 = (purpose: number) => Uint8Array.of(0, 0, 0, 2, purpose)
  it("key derivation", () => {
    assert.strictEqual(toHex(deriveKey.sha2("sha256", base128, usage2(0x99), 128)), "b31a018a48f54776f403e9a396325dc3")
    assert.strictEqual(toHex(deriveKey.sha2("sha256", base128, usage2(0xaa), 128)), "9b197dd1e8c5609d6e67c3e37c62c72e")
    assert.strictEqual(toHex(deriveKey.sha2("sha256", base128, usage2(0x55), 128)), "9fda0e56ab2d85e1569a688696c26a6c")
    assert.strictEqual(
      toHex(deriveKey.sha2("sha384", base256, usage2(0x99), 192)),
      "ef5718be86cc84963d8bbb5031e9f5c4ba41f28faf69e73d"
    )
    assert.strictEqual(
      toHex(deriveKey.sha2("sha384", base256, usage2(0xaa), 256)),
      "56ab22bee63d82d7bc5227f6773f8ea7a5eb1c825160c38312980c442e5c7e49"
    )
    assert.strictEqual(
      toHex(deriveKey.sha2("sha384", base256, usage2(0x55), 192)),
      "69b16514e3cd8e56b82010d5c73012b622c4d00ffc23ed1f"
    )
  })
  it("checksums", () => {
    const data = fromHex("000102030405060708090a0b0c0d0e0f1011121314")
    assert.strictEqual(
      toHex(enctype(EncType.aes128CtsHmacSha256128).checksum(base128, 2, data)),
      "d78367186643d67b411cba9139fc1dee"
    )
    assert.strictEqual(
      toHex(enctype(EncType.aes256CtsHmacSha384192).checksum(base256, 2, data)),
      "45ee791567eefca37f4ac1e0222de80d43c3bfa06699672a"
    )
  })
})

describe("encrypt and decrypt", () => {
  for (const e of enctypes) {
    it(`${e.name}: round trip, and any flipped bit or wrong usage is refused`, () =>
      FastCheck.assert(
        FastCheck.property(
          FastCheck.uint8Array({ minLength: e.keyBytes, maxLength: e.keyBytes }),
          FastCheck.uint8Array({ maxLength: 80 }),
          FastCheck.nat(),
          (key, plaintext, flip) => {
            const sealed = e.encrypt(key, 3, plaintext)
            assert.deepStrictEqual(e.decrypt(key, 3, sealed), plaintext)
            assert.strictEqual(e.decrypt(key, 4, sealed), undefined)
            const tampered = sealed.slice()
            tampered[flip % tampered.length]! ^= 1 << (flip % 8)
            assert.strictEqual(e.decrypt(key, 3, tampered), undefined)
            assert.strictEqual(e.decrypt(key, 3, sealed.subarray(0, 20)), undefined)
          }
        ),
        { numRuns: 50 }
      ))
  }
})
