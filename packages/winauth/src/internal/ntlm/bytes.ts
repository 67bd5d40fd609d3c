/** Byte helpers for the NTLM codec: little-endian fields, UTF-16LE, constant-time comparison. */

/** Thrown inside the parsers only, and turned into an `NtlmProtocolError` at their edge. @internal */
export class Malformed {
  constructor(readonly detail: string) {}
}

/** @internal */
export const concat = (...parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** UTF-16LE code units, as Windows stores names (surrogate pairs pass through unchanged). @internal */
export const utf16le = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length * 2)
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    out[i * 2] = unit & 0xff
    out[i * 2 + 1] = unit >>> 8
  }
  return out
}

/** @internal */
export const decodeUtf16le = (bytes: Uint8Array): string => {
  if (bytes.length % 2 !== 0) throw new Malformed("a UTF-16LE string has an odd byte length")
  let text = ""
  for (let i = 0; i < bytes.length; i += 2) text += String.fromCharCode(bytes[i]! | (bytes[i + 1]! << 8))
  return text
}

/** OEM strings: we only ever send ASCII, and read any 8-bit text as Latin-1. @internal */
export const decodeOem = (bytes: Uint8Array): string => {
  let text = ""
  for (const byte of bytes) text += String.fromCharCode(byte)
  return text
}

/** @internal */
export const isAscii = (text: string): boolean => /^[\x20-\x7e]*$/.test(text)

/** @internal */
export const ascii = (text: string): Uint8Array => Uint8Array.from(text, (c) => c.charCodeAt(0) & 0x7f)

/** @internal */
export const uint16 = (value: number): Uint8Array => Uint8Array.of(value & 0xff, (value >>> 8) & 0xff)

/** @internal */
export const uint32 = (value: number): Uint8Array => {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, value >>> 0, true)
  return out
}

/** Reads a little-endian integer, failing as malformed when it would run past the end. @internal */
export const readUint16 = (bytes: Uint8Array, at: number): number => {
  if (at < 0 || at + 2 > bytes.length) throw new Malformed(`truncated at byte ${at}`)
  return bytes[at]! | (bytes[at + 1]! << 8)
}

/** @internal */
export const readUint32 = (bytes: Uint8Array, at: number): number => {
  if (at < 0 || at + 4 > bytes.length) throw new Malformed(`truncated at byte ${at}`)
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0
}

/** @internal */
export const slice = (bytes: Uint8Array, at: number, length: number): Uint8Array => {
  if (at < 0 || length < 0 || at + length > bytes.length) throw new Malformed(`truncated at byte ${at}`)
  return bytes.slice(at, at + length)
}

/** Compares without an early exit, so that timing does not reveal how much of a proof matched. @internal */
export const equalBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/** @internal */
export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")

/** @internal */
export const fromHex = (hex: string): Uint8Array => {
  const out = new Uint8Array(hex.length >>> 1)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16)
  return out
}
