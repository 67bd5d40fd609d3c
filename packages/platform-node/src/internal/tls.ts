/** TLS settings shared by the NTLM transport and the plain HTTP clients: extra CAs and a client certificate. */
import { Effect, Redacted } from "effect"
import * as Fs from "node:fs/promises"
import * as Process from "node:process"
import type * as Https from "node:https"
import * as Tls from "node:tls"
import { TransportError } from "@vedauth/core/VedAuthError"
import type { ResolvedTls, TlsOptions } from "../NodeNtlmTransport.js"

const readPemFile = (what: string) => (file: string) =>
  Effect.tryPromise({
    try: () => Fs.readFile(file, "utf8"),
    catch: (error) => new TransportError({ detail: `cannot read the ${what} ${file}: ${(error as Error).message}` })
  })
const readCaFile = readPemFile("CA file")

// The certificate grant's client certificate from files (VEDAUTH_CLIENT_CERT, VEDAUTH_CLIENT_KEY);
// the key is Redacted from the moment it is read.
const readClientCertificate = (files: NonNullable<TlsOptions["clientCertificateFiles"]>) =>
  Effect.all({
    cert: readPemFile("client certificate file")(files.cert),
    key: Effect.map(readPemFile("client key file")(files.key), Redacted.make)
  })

/**
 * `NODE_TLS_REJECT_UNAUTHORIZED=0` turns certificate verification off for every connection of the
 * process, ours included: refused unless the caller opted in, and then said aloud.
 * @internal
 */
export const checkVerification = (options: TlsOptions): Effect.Effect<void, TransportError> => {
  if (Process.env["NODE_TLS_REJECT_UNAUTHORIZED"] !== "0") return Effect.void
  if (options.allowUnverifiedTls === true) {
    return Effect.logWarning("vedauth: NODE_TLS_REJECT_UNAUTHORIZED=0: server certificates are not verified (allowUnverifiedTls is set)")
  }
  return Effect.fail(
    new TransportError({
      detail: "NODE_TLS_REJECT_UNAUTHORIZED=0 turns off certificate verification for the whole process; refusing: " +
        "unset it and trust the server's CA with caFile (VEDAUTH_CA_FILE), or opt in with allowUnverifiedTls: true " +
        "(VEDAUTH_ALLOW_UNVERIFIED_TLS=1)"
    })
  )
}

/**
 * The options with `caFile` read into `ca` (inline CAs first), so that every client built from the
 * result trusts the same certificates without reading the file again.
 * @internal
 */
export const resolve = <O extends TlsOptions>(options: O): Effect.Effect<ResolvedTls<O>, TransportError> =>
  Effect.gen(function*() {
    yield* checkVerification(options)
    const { ca, caFile, clientCertificateFiles, ...rest } = options
    const inline = ca === undefined ? [] : typeof ca === "string" ? [ca] : [...ca]
    const fromFile = caFile === undefined ? [] : [yield* readCaFile(caFile)]
    const clientCertificate = clientCertificateFiles === undefined ? {} : { clientCertificate: yield* readClientCertificate(clientCertificateFiles) }
    return { ...rest, ...clientCertificate, ca: [...inline, ...fromFile] }
  })

/**
 * Agent options with verification left on. Node replaces its root store when `ca` is given, so the
 * bundled roots are kept and the extra CAs added to them. Secrets leave `Redacted` only here.
 * @internal
 */
export const agentOptions = (tls: ResolvedTls): Https.AgentOptions => {
  const client = tls.clientCertificate
  return {
    ...(tls.ca.length === 0 ? {} : { ca: [...Tls.rootCertificates, ...tls.ca] }),
    ...(client === undefined ? {} : {
      cert: client.cert,
      key: Redacted.value(client.key),
      ...(client.passphrase === undefined ? {} : { passphrase: Redacted.value(client.passphrase) })
    })
  }
}
