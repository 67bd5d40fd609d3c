/** Big-endian readers and writers for MIT's keytab and credential-cache files. */
import { concat, Malformed } from "../ntlm/bytes.js"

/** A cursor over bytes that throws `Malformed` instead of reading past the end. @internal */
export class Reader {
  at = 0
  private readonly view: DataView
  constructor(readonly bytes: Uint8Array, readonly what: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length)
  }
  get remaining(): number {
    return this.bytes.length - this.at
  }
  private need(n: number) {
    if (n < 0 || this.at + n > this.bytes.length) throw new Malformed(`${this.what} is truncated at byte ${this.at}`)
  }
  u8(): number {
    this.need(1)
    return this.view.getUint8(this.at++)
  }
  u16(): number {
    this.need(2)
    const v = this.view.getUint16(this.at)
    this.at += 2
    return v
  }
  u32(): number {
    this.need(4)
    const v = this.view.getUint32(this.at)
    this.at += 4
    return v
  }
  i32(): number {
    this.need(4)
    const v = this.view.getInt32(this.at)
    this.at += 4
    return v
  }
  bytesOf(n: number): Uint8Array {
    this.need(n)
    const out = this.bytes.slice(this.at, this.at + n)
    this.at += n
    return out
  }
  /** UTF-8 text with a 16- or 32-bit length prefix. */
  text(lengthBits: 16 | 32): string {
    return new TextDecoder().decode(this.bytesOf(lengthBits === 16 ? this.u16() : this.u32()))
  }
}

/** @internal */
export const u8 = (v: number) => Uint8Array.of(v & 0xff)
/** @internal */
export const u16 = (v: number) => Uint8Array.of((v >>> 8) & 0xff, v & 0xff)
/** @internal */
export const u32 = (v: number) => {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, v >>> 0)
  return out
}
/** Bytes with a 32-bit length prefix. @internal */
export const counted32 = (bytes: Uint8Array) => concat(u32(bytes.length), bytes)
/** Bytes with a 16-bit length prefix. @internal */
export const counted16 = (bytes: Uint8Array) => concat(u16(bytes.length), bytes)
/** @internal */
export const utf8 = (text: string) => new TextEncoder().encode(text)
