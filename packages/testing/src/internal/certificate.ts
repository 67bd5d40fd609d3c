/**
 * The HTTPS simulator's certificates, generated in-process at start-up: a throwaway CA and a leaf
 * for the server signed by it, as a real TPP behind an enterprise CA presents. A self-signed
 * certificate that is both CA and server is refused by strict verifiers (rustls in Deno's fetch:
 * `CaUsedAsEndEntity`), so clients trust the CA and the server presents the leaf.
 *
 * ECDSA P-256: a key in milliseconds, where RSA takes a second. @peculiar/x509 resolves its
 * classes through tsyringe, which needs the reflect-metadata polyfill loaded first.
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"

/** @internal */
export interface GeneratedCertificate {
  /** The CA certificate: what clients trust. */
  readonly caPem: string
  /** The leaf certificate the server presents. */
  readonly certPem: string
  /** The leaf's private key (PKCS#8). */
  readonly keyPem: string
  /** The DER of the leaf, the certificate the server presents: channel bindings hash it. */
  readonly der: Uint8Array
}

const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" }

// A leading 7f keeps the serial positive in DER.
const randomSerial = () =>
  `7f${
    Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, "0")).join(
      ""
    )
  }`

const generalName = (name: string): x509.JsonGeneralName =>
  /^[\d.]+$|:/.test(name) ? { type: "ip", value: name } : { type: "dns", value: name }

// A throwaway CA named `caName` and one leaf it signed, valid from an hour ago for 30 days: the
// leaf's subject and its own extensions (usage, names) are the caller's.
const caAndLeaf = async (
  caName: string,
  subject: x509.Name,
  now: number,
  leafExtensions: ReadonlyArray<x509.Extension>
) => {
  x509.cryptoProvider.set(globalThis.crypto)
  const [caKeys, leafKeys] = await Promise.all([
    globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]),
    globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])
  ])
  const notBefore = new Date(now - 60 * 60 * 1000)
  const notAfter = new Date(now + 30 * 24 * 60 * 60 * 1000)
  // Key identifiers: strict verifiers (OpenSSL's X509_STRICT, the default from Python 3.13)
  // want a subject key identifier on a CA and an authority key identifier on what it signs.
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: caName,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)
    ]
  })
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: caName,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ...leafExtensions,
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey)
    ]
  })
  const pkcs8 = await globalThis.crypto.subtle.exportKey("pkcs8", leafKeys.privateKey)
  return {
    caPem: ca.toString("pem"),
    certPem: leaf.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    leaf
  }
}

/** @internal */
export const generate = async (hostNames: ReadonlyArray<string>, now: number): Promise<GeneratedCertificate> => {
  const { caPem, certPem, keyPem, leaf } = await caAndLeaf(
    "CN=vedauth-simulator CA",
    new x509.Name("CN=vedauth-simulator"),
    now,
    [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...new Set(hostNames)].map(generalName))
    ]
  )
  return { caPem, certPem, keyPem, der: new Uint8Array(leaf.rawData) }
}

/** A client CA (what the server trusts, `clientCa`) and a client certificate it issued, with its key. @internal */
export interface GeneratedClientCertificate {
  readonly caPem: string
  readonly certPem: string
  readonly keyPem: string
}

/**
 * A throwaway client CA and a certificate for `commonName` signed by it, for the certificate grant
 * (mutual TLS): the server is given the CA, the client the certificate and key.
 * @internal
 */
export const generateClient = async (commonName: string, now: number): Promise<GeneratedClientCertificate> => {
  // The name as one CN value, never parsed as text (a comma in it must not start another attribute).
  const { caPem, certPem, keyPem } = await caAndLeaf(
    "CN=vedauth-simulator client CA",
    new x509.Name([{ CN: [commonName] }]),
    now,
    [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])
    ]
  )
  return { caPem, certPem, keyPem }
}
