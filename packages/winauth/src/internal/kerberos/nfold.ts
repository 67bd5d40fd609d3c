/**
 * RFC 3961 section 5.1 n-fold: stretches or folds a constant to the cipher's block size. The input
 * is repeated, each copy rotated right by 13 more bits, up to the least common multiple of the two
 * lengths; that string is cut into output-sized pieces that are added with end-around carry.
 * Written for clarity over speed: it only ever runs on short constants.
 */

/** Folds `input` (non-empty) to `outBytes` bytes. @internal */
export const nfold = (input: Uint8Array, outBytes: number): Uint8Array => {
  const lcm = leastCommonMultiple(input.length, outBytes)
  const stretched = new Uint8Array(lcm)
  for (let copy = 0; copy < lcm / input.length; copy++) {
    stretched.set(rotateRight(input, 13 * copy), copy * input.length)
  }
  const sum = new Uint8Array(outBytes)
  for (let at = 0; at < lcm; at += outBytes) onesComplementAdd(sum, stretched.subarray(at, at + outBytes))
  return sum
}

/** Rotates a big-endian bit string right by `bits`. */
const rotateRight = (bytes: Uint8Array, bits: number): Uint8Array => {
  const total = bytes.length * 8
  const out = new Uint8Array(bytes.length)
  for (let bit = 0; bit < total; bit++) {
    const from = (((bit - bits) % total) + total) % total
    if ((bytes[from >>> 3]! >>> (7 - (from & 7))) & 1) out[bit >>> 3]! |= 0x80 >>> (bit & 7)
  }
  return out
}

/** `sum += addend` as big-endian numbers, wrapping the carry out of the top byte back into the bottom. */
const onesComplementAdd = (sum: Uint8Array, addend: Uint8Array): void => {
  let carry = 0
  for (let i = sum.length - 1; i >= 0; i--) {
    carry += sum[i]! + addend[i]!
    sum[i] = carry & 0xff
    carry >>>= 8
  }
  for (let i = sum.length - 1; carry !== 0 && i >= 0; i--) {
    carry += sum[i]!
    sum[i] = carry & 0xff
    carry >>>= 8
  }
}

const leastCommonMultiple = (a: number, b: number): number => {
  let x = a
  let y = b
  while (y !== 0) [x, y] = [y, x % y]
  return (a * b) / x
}
