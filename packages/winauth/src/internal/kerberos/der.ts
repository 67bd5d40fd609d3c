/**
 * The small subset of DER that Kerberos 5, GSS-API and SPNEGO use, bounds-checked both ways.
 * Why not asn1js or @peculiar/asn1-schema (already in the workspace through @peculiar/x509)? Their
 * decoders throw on bad input and build schema objects via decorators (reflect-metadata); Kerberos
 * needs a dozen explicitly tagged SEQUENCEs, and 150 lines of total, allocation-light code here stay
 * portable and keep core's dependencies to the two audited @noble packages.
 *
 * Reading throws `Malformed` only; every public decoder turns that into a typed error at its edge.
 */
import { concat, Malformed } from "../ntlm/bytes.js"

export { Malformed }

/** One decoded element. @internal */
export interface Element {
  readonly tag: number
  readonly content: Uint8Array
  /** The whole encoding (tag, length and content), for checksums over a received field. */
  readonly raw: Uint8Array
}

/** Universal tags used here. @internal */
export const Tag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  enumerated: 0x0a,
  generalizedTime: 0x18,
  generalString: 0x1b,
  sequence: 0x30
} as const

/** Explicit context tag `[n]` (constructed). @internal */
export const context = (n: number): number => 0xa0 + n
/** `[APPLICATION n]` (constructed). @internal */
export const application = (n: number): number => 0x60 + n

// ---- writing -------------------------------------------------------------------------------

const lengthOctets = (length: number): Uint8Array => {
  if (length < 0x80) return Uint8Array.of(length)
  const bytes: Array<number> = []
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n & 0xff)
  return Uint8Array.of(0x80 | bytes.length, ...bytes)
}

/** @internal */
export const tlv = (tag: number, content: Uint8Array): Uint8Array =>
  concat(Uint8Array.of(tag), lengthOctets(content.length), content)

/** @internal */
export const sequence = (...parts: ReadonlyArray<Uint8Array | undefined>): Uint8Array =>
  tlv(Tag.sequence, concat(...parts.filter((p): p is Uint8Array => p !== undefined)))

/** `[n] value`, or nothing when the value is absent (an OPTIONAL field). @internal */
export const field = (n: number, value: Uint8Array | undefined): Uint8Array | undefined =>
  value === undefined ? undefined : tlv(context(n), value)

/** `[n] encode(value)` for an OPTIONAL field, nothing when the value is absent. @internal */
export const optional = <A>(n: number, value: A | undefined, encode: (a: A) => Uint8Array): Uint8Array | undefined =>
  value === undefined ? undefined : tlv(context(n), encode(value))

/** Two's complement, minimal length. @internal */
export const integer = (value: number): Uint8Array => {
  const bytes: Array<number> = []
  let n = value
  do {
    bytes.unshift(((n % 256) + 256) % 256)
    n = Math.floor(n / 256)
  } while (!(n === 0 && (bytes[0]! & 0x80) === 0) && !(n === -1 && (bytes[0]! & 0x80) !== 0))
  return tlv(Tag.integer, Uint8Array.from(bytes))
}

/** @internal */
export const octetString = (bytes: Uint8Array): Uint8Array => tlv(Tag.octetString, bytes)

/** KerberosString: GeneralString restricted to IA5 by RFC 4120; UTF-8 is what MIT and Windows send. @internal */
export const generalString = (text: string): Uint8Array => tlv(Tag.generalString, new TextEncoder().encode(text))

/** KerberosTime: GeneralizedTime `YYYYMMDDHHMMSSZ`, whole seconds. @internal */
export const time = (millis: number): Uint8Array =>
  tlv(
    Tag.generalizedTime,
    new TextEncoder().encode(
      new Date(Math.floor(millis / 1000) * 1000).toISOString().replace(/[-:T]/g, "").replace(/\.\d+Z$/, "Z")
    )
  )

/** A 32-bit flags BIT STRING (KDCOptions, APOptions, TicketFlags): bit 0 is the most significant. @internal */
export const flags32 = (value: number): Uint8Array => {
  const out = new Uint8Array(5)
  new DataView(out.buffer).setUint32(1, value >>> 0)
  return tlv(Tag.bitString, out)
}

/** @internal */
export const oid = (dotted: string): Uint8Array => {
  const arcs = dotted.split(".").map(Number)
  const bytes: Array<number> = [arcs[0]! * 40 + arcs[1]!]
  for (const arc of arcs.slice(2)) {
    const chunk: Array<number> = [arc & 0x7f]
    for (let n = Math.floor(arc / 128); n > 0; n = Math.floor(n / 128)) chunk.unshift(0x80 | (n & 0x7f))
    bytes.push(...chunk)
  }
  return tlv(Tag.oid, Uint8Array.from(bytes))
}

// ---- reading -------------------------------------------------------------------------------

/** Reads one element at `at`; `end` is the index just past it. @internal */
export const readAt = (bytes: Uint8Array, at: number): Element & { readonly end: number } => {
  if (at + 2 > bytes.length) throw new Malformed("a DER element is truncated")
  const tag = bytes[at]!
  if ((tag & 0x1f) === 0x1f) throw new Malformed("a DER tag uses the multi-byte form, which Kerberos never does")
  let length = bytes[at + 1]!
  let start = at + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4) throw new Malformed("a DER length is indefinite or too long")
    if (start + count > bytes.length) throw new Malformed("a DER length is truncated")
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i]!
    start += count
  }
  if (length > bytes.length - start) throw new Malformed("a DER element runs past its container")
  return {
    tag,
    content: bytes.subarray(start, start + length),
    raw: bytes.subarray(at, start + length),
    end: start + length
  }
}

/** Reads exactly one element filling `bytes`, with the tag it must have. @internal */
export const read = (bytes: Uint8Array, tag: number, what: string): Element => {
  const element = readAt(bytes, 0)
  if (element.tag !== tag) {
    throw new Malformed(`${what}: expected tag 0x${tag.toString(16)}, found 0x${element.tag.toString(16)}`)
  }
  if (element.end !== bytes.length) throw new Malformed(`${what}: trailing bytes after the element`)
  return element
}

/** The elements inside a constructed element's content. @internal */
export const children = (content: Uint8Array): Array<Element> => {
  const out: Array<Element> = []
  for (let at = 0; at < content.length;) {
    const element = readAt(content, at)
    out.push(element)
    at = element.end
  }
  return out
}

/** The explicitly tagged fields of a SEQUENCE, by context number (each `[n]` wraps one element). @internal */
export class Fields {
  private readonly byNumber = new Map<number, Element>()
  constructor(readonly what: string, sequenceElement: Element) {
    if (sequenceElement.tag !== Tag.sequence) throw new Malformed(`${what} is not a SEQUENCE`)
    for (const wrapper of children(sequenceElement.content)) {
      if ((wrapper.tag & 0xe0) !== 0xa0) throw new Malformed(`${what} has an untagged field`)
      const inner = children(wrapper.content)
      if (inner.length !== 1) throw new Malformed(`${what} field [${wrapper.tag & 0x1f}] does not hold one element`)
      this.byNumber.set(wrapper.tag & 0x1f, inner[0]!)
    }
  }
  optional(n: number): Element | undefined {
    return this.byNumber.get(n)
  }
  required(n: number): Element {
    const element = this.byNumber.get(n)
    if (element === undefined) throw new Malformed(`${this.what} lacks field [${n}]`)
    return element
  }
}

/** Reads an `[APPLICATION n] SEQUENCE { ... }` message into its fields. @internal */
export const readApplication = (bytes: Uint8Array, n: number, what: string): Fields => {
  const outer = read(bytes, application(n), what)
  return new Fields(what, read(outer.content, Tag.sequence, what))
}

/** @internal */
export const asInteger = (element: Element, what: string): number => {
  if (element.tag !== Tag.integer && element.tag !== Tag.enumerated) throw new Malformed(`${what} is not an INTEGER`)
  const c = element.content
  if (c.length === 0 || c.length > 6) throw new Malformed(`${what} has an unsupported INTEGER length`)
  let value = c[0]! & 0x80 ? -1 : 0
  for (const byte of c) value = value * 256 + byte
  return value
}

/** @internal */
export const asOctets = (element: Element, what: string): Uint8Array => {
  if (element.tag !== Tag.octetString) throw new Malformed(`${what} is not an OCTET STRING`)
  return element.content
}

/** @internal */
export const asString = (element: Element, what: string): string => {
  // GeneralString is what RFC 4120 says; some peers send UTF8String (0x0c) or IA5String (0x16).
  if (element.tag !== Tag.generalString && element.tag !== 0x0c && element.tag !== 0x16) {
    throw new Malformed(`${what} is not a string`)
  }
  return new TextDecoder("utf-8", { fatal: false }).decode(element.content)
}

/** @internal */
export const asTime = (element: Element, what: string): number => {
  if (element.tag !== Tag.generalizedTime) throw new Malformed(`${what} is not a GeneralizedTime`)
  const text = new TextDecoder().decode(element.content)
  const match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.\d+)?Z$/.exec(text)
  if (match === null) throw new Malformed(`${what} is not a UTC GeneralizedTime`)
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number]
  return Date.UTC(y, mo - 1, d, h, mi, s)
}

/** @internal */
export const asFlags32 = (element: Element, what: string): number => {
  if (element.tag !== Tag.bitString || element.content.length < 1) throw new Malformed(`${what} is not a BIT STRING`)
  let value = 0
  for (let i = 0; i < 4; i++) value = value * 256 + (element.content[1 + i] ?? 0)
  return value >>> 0
}

/** @internal */
export const asSequenceOf = (element: Element, what: string): Array<Element> => {
  if (element.tag !== Tag.sequence) throw new Malformed(`${what} is not a SEQUENCE OF`)
  return children(element.content)
}

/** @internal */
export const asOid = (element: Element, what: string): string => {
  if (element.tag !== Tag.oid || element.content.length === 0) {
    throw new Malformed(`${what} is not an OBJECT IDENTIFIER`)
  }
  const c = element.content
  const arcs = [Math.floor(c[0]! / 40), c[0]! % 40]
  let arc = 0
  for (let i = 1; i < c.length; i++) {
    arc = arc * 128 + (c[i]! & 0x7f)
    if (arc > Number.MAX_SAFE_INTEGER / 128) throw new Malformed(`${what} has an arc too large`)
    if ((c[i]! & 0x80) === 0) {
      arcs.push(arc)
      arc = 0
    } else if (i === c.length - 1) throw new Malformed(`${what} ends mid-arc`)
  }
  return arcs.join(".")
}
