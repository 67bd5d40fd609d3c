/**
 * MD4 (RFC 1320), needed only for the NT hash. Written here because OpenSSL 3 (Node 17+) refuses
 * MD4 and the portable hash libraries dropped it; it is never used as a general-purpose hash.
 */

const rotl = (x: number, n: number): number => (x << n) | (x >>> (32 - n))

const ROUND2_ORDER = [0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15]
const ROUND3_ORDER = [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15]
const ROUND1_SHIFTS = [3, 7, 11, 19]
const ROUND2_SHIFTS = [3, 5, 9, 13]
const ROUND3_SHIFTS = [3, 9, 11, 15]

/** @internal */
export const md4 = (message: Uint8Array): Uint8Array => {
  // Padding: 0x80, zeros up to 56 mod 64, then the bit length as a 64-bit little-endian integer.
  const paddedLength = (((message.length + 8) >>> 6) + 1) << 6
  const padded = new Uint8Array(paddedLength)
  padded.set(message)
  padded[message.length] = 0x80
  const view = new DataView(padded.buffer)
  const bitLength = message.length * 8
  view.setUint32(paddedLength - 8, bitLength >>> 0, true)
  view.setUint32(paddedLength - 4, Math.floor(bitLength / 0x100000000), true)

  const state = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476]
  const x = new Array<number>(16)
  for (let block = 0; block < paddedLength; block += 64) {
    for (let i = 0; i < 16; i++) x[i] = view.getUint32(block + i * 4, true)
    const h = [...state]
    // Each step updates one of a, b, c, d in turn (a, d, c, b order), as RFC 1320 writes them.
    const step = (i: number, mix: (b: number, c: number, d: number) => number, k: number, s: number, add: number) => {
      const a = (16 - (i % 4)) % 4
      const b = (a + 1) % 4, c = (a + 2) % 4, d = (a + 3) % 4
      h[a] = rotl((h[a]! + mix(h[b]!, h[c]!, h[d]!) + x[k]! + add) | 0, s)
    }
    const f = (b: number, c: number, d: number) => (b & c) | (~b & d)
    const g = (b: number, c: number, d: number) => (b & c) | (b & d) | (c & d)
    const hh = (b: number, c: number, d: number) => b ^ c ^ d
    for (let i = 0; i < 16; i++) step(i, f, i, ROUND1_SHIFTS[i % 4]!, 0)
    for (let i = 0; i < 16; i++) step(i, g, ROUND2_ORDER[i]!, ROUND2_SHIFTS[i % 4]!, 0x5a827999)
    for (let i = 0; i < 16; i++) step(i, hh, ROUND3_ORDER[i]!, ROUND3_SHIFTS[i % 4]!, 0x6ed9eba1)
    for (let i = 0; i < 4; i++) state[i] = (state[i]! + h[i]!) | 0
  }
  const out = new Uint8Array(16)
  const outView = new DataView(out.buffer)
  for (let i = 0; i < 4; i++) outView.setUint32(i * 4, state[i]! >>> 0, true)
  return out
}
