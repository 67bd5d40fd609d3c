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
  `7f${Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, "0")).join("")}`

const generalName = (name: string): x509.JsonGeneralName =>
  /^[\d.]+$|:/.test(name) ? { type: "ip", value: name } : { type: "dns", value: name }

/** @internal */
export const generate = async (hostNames: ReadonlyArray<string>, now: number): Promise<GeneratedCertificate> => {
  x509.cryptoProvider.set(globalThis.crypto)
  const [caKeys, leafKeys] = await Promise.all([
    globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"]),
    globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])
  ])
  const notBefore = new Date(now - 60 * 60 * 1000)
  const notAfter = new Date(now + 30 * 24 * 60 * 60 * 1000)
  const caName = "CN=vedauth-simulator CA"
  // Key identifiers: strict verifiers (OpenSSL's X509_STRICT, the default from Python 3.13)
  // want a subject key identifier on a CA and an authority key identifier on what it signs.
  const caKeyId = await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey)
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
      caKeyId
    ]
  })
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=vedauth-simulator",
    issuer: caName,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([...new Set(hostNames)].map(generalName)),
      await x509.SubjectKeyIdentifierExtension.create(leafKeys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey)
    ]
  })
  const pkcs8 = await globalThis.crypto.subtle.exportKey("pkcs8", leafKeys.privateKey)
  return {
    caPem: ca.toString("pem"),
    certPem: leaf.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    der: new Uint8Array(leaf.rawData)
  }
}
