/**
 * AES in CBC mode with ciphertext stealing as RFC 3962 section 5 uses it (the last two blocks
 * swapped, zero IV), on @noble/ciphers' AES-CBC: no AES of our own, only the stealing around it.
 */
import { cbc } from "@noble/ciphers/aes.js"

const block = 16
const zeroIv = new Uint8Array(block)

/** Encrypts any length of at least one block. @internal */
export const ctsEncrypt = (key: Uint8Array, plaintext: Uint8Array): Uint8Array => {
  const length = plaintext.length
  const padded = new Uint8Array(Math.ceil(length / block) * block)
  padded.set(plaintext)
  const chained = cbc(key, zeroIv, { disablePadding: true }).encrypt(padded)
  if (length <= block) return chained.subarray(0, length)
  // Swap the last two blocks and drop what the padding added.
  const n = chained.length
  const out = new Uint8Array(length)
  out.set(chained.subarray(0, n - 2 * block))
  out.set(chained.subarray(n - block), n - 2 * block)
  out.set(chained.subarray(n - 2 * block, n - 2 * block + (length - (n - block))), n - block)
  return out
}

/** Decrypts what `ctsEncrypt` produced; the caller checks the length is at least one block. @internal */
export const ctsDecrypt = (key: Uint8Array, ciphertext: Uint8Array): Uint8Array => {
  const length = ciphertext.length
  if (length === block) return cbc(key, zeroIv, { disablePadding: true }).decrypt(ciphertext)
  const tail = length % block === 0 ? block : length % block
  const lastFull = length - tail - block // where the swapped-in final CBC block starts
  // Decrypting that block alone (with a zero IV) gives the padded last plaintext XOR the stolen block,
  // whose missing bytes are exactly what CBC encryption of the zero padding left there.
  const finalBlock = ciphertext.subarray(lastFull, lastFull + block)
  const mixed = cbc(key, zeroIv, { disablePadding: true }).decrypt(finalBlock)
  const stolen = new Uint8Array(block)
  stolen.set(ciphertext.subarray(lastFull + block))
  stolen.set(mixed.subarray(tail), tail)
  // Rebuild the plain CBC ciphertext and decrypt it in one pass.
  const chained = new Uint8Array(lastFull + 2 * block)
  chained.set(ciphertext.subarray(0, lastFull))
  chained.set(stolen, lastFull)
  chained.set(finalBlock, lastFull + block)
  return cbc(key, zeroIv, { disablePadding: true }).decrypt(chained).subarray(0, length)
}
