/**
 * A self-signed certificate for the HTTPS simulator, generated in-process at start-up
 * (ECDSA P-256: a key in milliseconds, where RSA takes a second). @peculiar/x509 resolves its
 * classes through tsyringe, which needs the reflect-metadata polyfill loaded first.
 */
import "reflect-metadata"
import * as x509 from "@peculiar/x509"

/** @internal */
export interface GeneratedCertificate {
  readonly certPem: string
  readonly keyPem: string
  readonly der: Uint8Array
}

/** @internal */
export const generate = async (hostNames: ReadonlyArray<string>, now: number): Promise<GeneratedCertificate> => {
  x509.cryptoProvider.set(globalThis.crypto)
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" }
  const keys = await globalThis.crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])
  const serial = Array.from(globalThis.crypto.getRandomValues(new Uint8Array(8)), (byte) => byte.toString(16).padStart(2, "0")).join("")
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    // A leading 7f keeps the serial positive in DER.
    serialNumber: `7f${serial}`,
    name: "CN=vedauth-simulator",
    notBefore: new Date(now - 60 * 60 * 1000),
    notAfter: new Date(now + 30 * 24 * 60 * 60 * 1000),
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.SubjectAlternativeNameExtension(
        hostNames.map((name): x509.JsonGeneralName => (/^[\d.]+$|:/.test(name) ? { type: "ip", value: name } : { type: "dns", value: name }))
      )
    ]
  })
  const pkcs8 = await globalThis.crypto.subtle.exportKey("pkcs8", keys.privateKey)
  return {
    certPem: certificate.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
    der: new Uint8Array(certificate.rawData)
  }
}
