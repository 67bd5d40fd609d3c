/**
 * RFC 5929 `tls-server-end-point`: the hash of the server certificate with the certificate's own
 * signature hash (MD5 and SHA-1 replaced by SHA-256). Only the few DER elements on the path to
 * `signatureAlgorithm` are read.
 */
import { sha224, sha256, sha384, sha512 } from "@noble/hashes/sha2.js"
import { ascii, concat, Malformed, toHex } from "./bytes.js"

interface Element {
  readonly tag: number
  readonly content: Uint8Array
  /** Index just past this element. */
  readonly end: number
}

/** Reads one DER TLV at `at`, with its length checked against the buffer. */
const readElement = (der: Uint8Array, at: number): Element => {
  if (at + 2 > der.length) throw new Malformed("the certificate is truncated")
  const tag = der[at]!
  let length = der[at + 1]!
  let start = at + 2
  if (length & 0x80) {
    const count = length & 0x7f
    if (count === 0 || count > 4 || start + count > der.length) {
      throw new Malformed("the certificate has a bad DER length")
    }
    length = 0
    for (let i = 0; i < count; i++) length = length * 256 + der[start + i]!
    start += count
  }
  if (length > der.length - start) throw new Malformed("the certificate is truncated")
  return { tag, content: der.subarray(start, start + length), end: start + length }
}

const SEQUENCE = 0x30
const OID = 0x06

const expect = (element: Element, tag: number, what: string): Element => {
  if (element.tag !== tag) throw new Malformed(`the certificate's ${what} is not where X.509 puts it`)
  return element
}

type Hash = (data: Uint8Array) => Uint8Array

// OIDs as the hex of their DER content bytes.
const SIGNATURE_HASHES: Record<string, Hash> = {
  "2a864886f70d010104": sha256, // md5WithRSAEncryption -> SHA-256 (RFC 5929 4.1)
  "2a864886f70d010105": sha256, // sha1WithRSAEncryption -> SHA-256
  "2a864886f70d01010b": sha256, // sha256WithRSAEncryption
  "2a864886f70d01010c": sha384, // sha384WithRSAEncryption
  "2a864886f70d01010d": sha512, // sha512WithRSAEncryption
  "2a864886f70d01010e": sha224, // sha224WithRSAEncryption
  "2a8648ce3d0401": sha256, // ecdsa-with-SHA1 -> SHA-256
  "2a8648ce3d040301": sha224, // ecdsa-with-SHA224
  "2a8648ce3d040302": sha256, // ecdsa-with-SHA256
  "2a8648ce3d040303": sha384, // ecdsa-with-SHA384
  "2a8648ce3d040304": sha512, // ecdsa-with-SHA512
  "2a8648ce380403": sha256, // dsa-with-sha1 -> SHA-256
  "608648016503040302": sha256, // dsa-with-sha256
  // Ed25519 has no separate hash; RFC 5929 predates it and clients in practice use SHA-256.
  "2b6570": sha256
}

const DIGESTS: Record<string, Hash> = {
  "2b0e03021a": sha256, // SHA-1 -> SHA-256
  "608648016503040201": sha256,
  "608648016503040202": sha384,
  "608648016503040203": sha512,
  "608648016503040204": sha224
}

const RSASSA_PSS = "2a864886f70d01010a"

/** RSASSA-PSS names its hash in the parameters: `[0] hashAlgorithm` (SHA-1 when absent). */
const pssHash = (params: Uint8Array): Hash => {
  if (params.length === 0) return sha256
  const sequence = expect(readElement(params, 0), SEQUENCE, "RSASSA-PSS parameters")
  if (sequence.content.length === 0) return sha256
  const first = readElement(sequence.content, 0)
  if (first.tag !== 0xa0) return sha256
  const algorithm = expect(readElement(first.content, 0), SEQUENCE, "PSS hash algorithm")
  const oid = expect(readElement(algorithm.content, 0), OID, "PSS hash OID")
  const hash = DIGESTS[toHex(oid.content)]
  if (hash === undefined) throw new Malformed(`unsupported RSASSA-PSS hash ${toHex(oid.content)}`)
  return hash
}

/** @internal */
export const signatureHash = (der: Uint8Array): Hash => {
  const certificate = expect(readElement(der, 0), SEQUENCE, "outer SEQUENCE")
  const tbs = expect(readElement(certificate.content, 0), SEQUENCE, "tbsCertificate")
  const algorithm = expect(readElement(certificate.content, tbs.end), SEQUENCE, "signatureAlgorithm")
  const oid = expect(readElement(algorithm.content, 0), OID, "signature algorithm OID")
  const name = toHex(oid.content)
  if (name === RSASSA_PSS) return pssHash(algorithm.content.subarray(oid.end))
  const hash = SIGNATURE_HASHES[name]
  if (hash === undefined) throw new Malformed(`unsupported certificate signature algorithm (OID bytes ${name})`)
  return hash
}

/** @internal */
export const tlsServerEndPointData = (der: Uint8Array): Uint8Array =>
  concat(ascii("tls-server-end-point:"), signatureHash(der)(der))
