/**
 * RFC 5929 `tls-server-end-point` channel bindings: what ties an NTLM or Kerberos authentication to
 * the TLS connection it travelled on (IIS Extended Protection). Computed from the server's
 * certificate as the client saw it; a proxy that intercepts TLS shows another certificate, and the
 * server refuses the authentication.
 *
 * @since 0.2.0
 */
import { tlsServerEndPointData } from "./internal/ntlm/certificate.js"
import { guard } from "./Ntlm.js"

/**
 * The `tls-server-end-point` application data for a server certificate (DER): the prefix and the
 * certificate's hash with its signature's hash function (SHA-256 for MD5 and SHA-1). Throws
 * `NtlmFailure` when the certificate cannot be read.
 *
 * @since 0.2.0
 * @category channel bindings
 */
export const tlsServerEndPoint = (certificateDer: Uint8Array): Uint8Array =>
  guard("cannot compute TLS channel bindings", () => tlsServerEndPointData(certificateDer))
