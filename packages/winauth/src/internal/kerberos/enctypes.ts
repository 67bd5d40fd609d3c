/**
 * The Kerberos encryption types vedauth speaks: RFC 3962 aes128/aes256-cts-hmac-sha1-96 and RFC 8009
 * aes128-cts-hmac-sha256-128 / aes256-cts-hmac-sha384-192. AES and SHA come from @noble/ciphers and
 * @noble/hashes, PBKDF2 from WebCrypto (present in Node, Deno, Bun and workers, and five times faster
 * than a JavaScript PBKDF2 for the thousands of rounds string-to-key takes); what is here is the
 * RFC 3961 framework around them (key derivation, confounder, integrity tag). No RC4, DES or 3DES:
 * MIT and Windows have disabled them.
 */
import { ecb } from "@noble/ciphers/aes.js"
import { hmac } from "@noble/hashes/hmac.js"
import { sha1 } from "@noble/hashes/legacy.js"
import { sha256, sha384 } from "@noble/hashes/sha2.js"
import { concat, equalBytes } from "../ntlm/bytes.js"
import { ctsDecrypt, ctsEncrypt } from "./cts.js"
import { nfold } from "./nfold.js"

/** Encryption type numbers (RFC 3961 section 8, RFC 8009 section 7). @internal */
export const EncType = {
  aes128CtsHmacSha196: 17,
  aes256CtsHmacSha196: 18,
  aes128CtsHmacSha256128: 19,
  aes256CtsHmacSha384192: 20
} as const

/** One encryption type: the operations RFC 3961 section 3 asks of it. @internal */
export interface Enctype {
  readonly id: number
  readonly name: string
  readonly keyBytes: number
  readonly checksumType: number
  readonly checksumBytes: number
  /**
   * Default PBKDF2 iteration count when the KDC sends no s2kparams, and the fewest accepted when it
   * sends some (as MIT: fewer would make the encrypted timestamp a cheap offline password guess).
   */
  readonly defaultIterations: number
  /** `iterations` must be within `maxIterations` (the caller checks what a KDC asks for). */
  readonly stringToKey: (password: Uint8Array, salt: Uint8Array, iterations: number) => Promise<Uint8Array>
  readonly encrypt: (key: Uint8Array, usage: number, plaintext: Uint8Array, confounder?: Uint8Array) => Uint8Array
  /** The plaintext, or `undefined` when the ciphertext is too short or its integrity tag does not match. */
  readonly decrypt: (key: Uint8Array, usage: number, ciphertext: Uint8Array) => Uint8Array | undefined
  readonly checksum: (key: Uint8Array, usage: number, data: Uint8Array) => Uint8Array
}

const block = 16

/**
 * The most PBKDF2 iterations vedauth derives a key with, whatever a KDC asks for in `s2kparams`:
 * 2^18, 64 times the SHA-1 enctypes' default (4096) and 8 times the SHA-2 ones' (32768). Active
 * Directory, Samba, MIT and Heimdal KDCs send the defaults (or no `s2kparams`, which means them);
 * MIT's own client stops below 2^24, where one derivation took 19.5 s of CPU on a 2-vCPU EPYC
 * (enctype 20). At 2^18 it is about 0.3 s there, run off the event loop (WebCrypto), so the
 * authorize's deadline still ends the login on time. A keytab's keys need no derivation at all.
 * @internal
 */
export const maxIterations = 262_144

/** PBKDF2 through WebCrypto. */
const pbkdf2 = (
  hash: "SHA-1" | "SHA-256" | "SHA-384",
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  bytes: number
) =>
  crypto.subtle.importKey("raw", new Uint8Array(password), "PBKDF2", false, ["deriveBits"]).then(async (key) =>
    new Uint8Array(
      await crypto.subtle.deriveBits({ name: "PBKDF2", hash, salt: new Uint8Array(salt), iterations }, key, bytes * 8)
    )
  )

/** The 5-byte well-known constant for a key usage and a purpose (0x99 checksum, 0xAA encrypt, 0x55 integrity). */
const usageConstant = (usage: number, purpose: number): Uint8Array => {
  const out = new Uint8Array(5)
  new DataView(out.buffer).setUint32(0, usage >>> 0)
  out[4] = purpose
  return out
}

const aesBlock = (key: Uint8Array, input: Uint8Array): Uint8Array => ecb(key, { disablePadding: true }).encrypt(input)

/** RFC 3961 section 5.1 DK for AES (random-to-key is the identity): encrypt the n-folded constant, chaining. */
const deriveKeySha1 = (key: Uint8Array, constant: Uint8Array): Uint8Array => {
  const out = new Uint8Array(key.length)
  let state = nfold(constant, block)
  for (let at = 0; at < out.length; at += block) {
    state = aesBlock(key, state)
    out.set(state.subarray(0, Math.min(block, out.length - at)), at)
  }
  return out
}

const confounderOf = (given: Uint8Array | undefined): Uint8Array =>
  given ?? crypto.getRandomValues(new Uint8Array(block))

const aesSha1 = (id: number, name: string, keyBytes: number, checksumType: number): Enctype => {
  const tag = 12 // HMAC-SHA1-96
  const mac = (key: Uint8Array, data: Uint8Array) => hmac(sha1, key, data).subarray(0, tag)
  return {
    id,
    name,
    keyBytes,
    checksumType,
    checksumBytes: tag,
    defaultIterations: 4096,
    stringToKey: (password, salt, iterations) =>
      pbkdf2("SHA-1", password, salt, iterations, keyBytes).then((tkey) =>
        deriveKeySha1(tkey, new TextEncoder().encode("kerberos"))
      ),
    encrypt: (key, usage, plaintext, confounder) => {
      const data = concat(confounderOf(confounder), plaintext)
      const ke = deriveKeySha1(key, usageConstant(usage, 0xaa))
      const ki = deriveKeySha1(key, usageConstant(usage, 0x55))
      return concat(ctsEncrypt(ke, data), mac(ki, data))
    },
    decrypt: (key, usage, ciphertext) => {
      if (ciphertext.length < block + tag) return undefined
      const body = ciphertext.subarray(0, ciphertext.length - tag)
      const data = ctsDecrypt(deriveKeySha1(key, usageConstant(usage, 0xaa)), body)
      const expected = mac(deriveKeySha1(key, usageConstant(usage, 0x55)), data)
      if (!equalBytes(expected, ciphertext.subarray(ciphertext.length - tag))) return undefined
      return data.slice(block)
    },
    checksum: (key, usage, data) => mac(deriveKeySha1(key, usageConstant(usage, 0x99)), data)
  }
}

type Hash = typeof sha256 | typeof sha384

/** RFC 8009 section 3 KDF-HMAC-SHA2: one HMAC of counter 1, label, 0x00, and the output length in bits. */
const kdfHmacSha2 = (hash: Hash, key: Uint8Array, label: Uint8Array, bits: number): Uint8Array => {
  const counter = Uint8Array.of(0, 0, 0, 1)
  const length = new Uint8Array(4)
  new DataView(length.buffer).setUint32(0, bits)
  return hmac(hash, key, concat(counter, label, Uint8Array.of(0), length)).slice(0, bits / 8)
}

const aesSha2 = (
  id: number,
  name: string,
  keyBytes: number,
  checksumType: number,
  hash: Hash,
  tag: number
): Enctype => {
  const ke = (key: Uint8Array, usage: number) => kdfHmacSha2(hash, key, usageConstant(usage, 0xaa), keyBytes * 8)
  const ki = (key: Uint8Array, usage: number) => kdfHmacSha2(hash, key, usageConstant(usage, 0x55), tag * 8)
  // The integrity tag covers a zero cipher state and the ciphertext (encrypt-then-MAC).
  const mac = (key: Uint8Array, ciphertext: Uint8Array) =>
    hmac(hash, key, concat(new Uint8Array(block), ciphertext)).subarray(0, tag)
  return {
    id,
    name,
    keyBytes,
    checksumType,
    checksumBytes: tag,
    defaultIterations: 32768,
    stringToKey: (password, salt, iterations) => {
      const saltp = concat(new TextEncoder().encode(name), Uint8Array.of(0), salt)
      return pbkdf2(hash === sha256 ? "SHA-256" : "SHA-384", password, saltp, iterations, keyBytes).then((tkey) =>
        kdfHmacSha2(hash, tkey, new TextEncoder().encode("kerberos"), keyBytes * 8)
      )
    },
    encrypt: (key, usage, plaintext, confounder) => {
      const encrypted = ctsEncrypt(ke(key, usage), concat(confounderOf(confounder), plaintext))
      return concat(encrypted, mac(ki(key, usage), encrypted))
    },
    decrypt: (key, usage, ciphertext) => {
      if (ciphertext.length < block + tag) return undefined
      const body = ciphertext.subarray(0, ciphertext.length - tag)
      if (!equalBytes(mac(ki(key, usage), body), ciphertext.subarray(body.length))) return undefined
      return ctsDecrypt(ke(key, usage), body).slice(block)
    },
    checksum: (key, usage, data) =>
      hmac(hash, kdfHmacSha2(hash, key, usageConstant(usage, 0x99), tag * 8), data).slice(0, tag)
  }
}

/**
 * Every supported enctype, in the order requests offer them: MIT's default order (and the only two
 * Active Directory has), then RFC 8009's, whose 32768 PBKDF2 rounds cost more per password login.
 * @internal
 */
export const enctypes: ReadonlyArray<Enctype> = [
  aesSha1(EncType.aes256CtsHmacSha196, "aes256-cts-hmac-sha1-96", 32, 16),
  aesSha1(EncType.aes128CtsHmacSha196, "aes128-cts-hmac-sha1-96", 16, 15),
  aesSha2(EncType.aes256CtsHmacSha384192, "aes256-cts-hmac-sha384-192", 32, 20, sha384, 24),
  aesSha2(EncType.aes128CtsHmacSha256128, "aes128-cts-hmac-sha256-128", 16, 19, sha256, 16)
]

/** @internal */
export const enctypeById = (id: number): Enctype | undefined => enctypes.find((e) => e.id === id)

/** @internal */
export const enctypeByChecksum = (checksumType: number): Enctype | undefined =>
  enctypes.find((e) => e.checksumType === checksumType)

/** Exposed for the RFC 3961 / 8009 key-derivation vectors. @internal */
export const deriveKey = {
  sha1: deriveKeySha1,
  sha2: (hash: "sha256" | "sha384", key: Uint8Array, constant: Uint8Array, bits: number) =>
    kdfHmacSha2(hash === "sha256" ? sha256 : sha384, key, constant, bits)
}
