import { assert, describe, it } from "@effect/vitest"
import { ascii, toHex } from "../src/internal/ntlm/bytes.js"
import { md4 } from "../src/internal/ntlm/md4.js"
import { ntowfv1 } from "../src/internal/ntlm/ntlmv2.js"

describe("MD4", () => {
  it("matches the RFC 1320 test suite", () => {
    const vectors: ReadonlyArray<readonly [string, string]> = [
      ["", "31d6cfe0d16ae931b73c59d7e0c089c0"],
      ["a", "bde52cb31de33e46245e05fbdbd6fb24"],
      ["abc", "a448017aaf21d8525fc10ae87aa6729d"],
      ["message digest", "d9130a8164549fe818874806e1c7014b"],
      ["abcdefghijklmnopqrstuvwxyz", "d79e1c308aa5bbcdeea8ed63df412da9"],
      ["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "043f8582f241db351ce627e153e7f0e4"],
      ["1234567890".repeat(8), "e33b4ddc9c38f2199c3e7b164fcc0536"]
    ]
    for (const [input, digest] of vectors) assert.strictEqual(toHex(md4(ascii(input))), digest, JSON.stringify(input))
  })

  it("handles lengths around the padding boundaries", () => {
    // Reference digests from PyCryptodome's MD4 (Debian python3-pycryptodome) for n bytes of "a".
    const expected: ReadonlyArray<readonly [number, string]> = [
      [55, "c889c81dd86c4d2e025778944ea02881"],
      [56, "d5f9a9e9257077a5f08b0b92f348b0ad"],
      [57, "872097e6f78e3b53f890459d03bc6fb7"],
      [63, "7ea3da77432d44c323671097d1348fc8"],
      [64, "52f5076fabd22680234a3fa9f9dc5732"],
      [65, "330e377bf231f3cacfecc2c182fe7e5b"],
      [119, "e65dd227ccef97fa1d34d70189120f76"],
      [120, "b03ddbd470b47c013e0c7ab2ddd763db"]
    ]
    for (const [length, digest] of expected) {
      assert.strictEqual(toHex(md4(ascii("a".repeat(length)))), digest, `${length} bytes`)
    }
  })

  it("gives the MS-NLMP NTOWFv1 of \"Password\"", () => {
    assert.strictEqual(toHex(ntowfv1("Password")), "a4f49c406510bdcab6824ee7c30fd852")
  })
})
