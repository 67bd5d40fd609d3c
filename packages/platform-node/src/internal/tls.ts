/** TLS settings shared by the NTLM transport and the plain HTTP clients: extra CAs and a client certificate. */
import * as LocalFiles from "@vedauth/core/LocalFiles"
import { TokenStoreFiles } from "@vedauth/core/TokenStoreFiles"
import { TransportError } from "@vedauth/core/VedAuthError"
import { Effect, Redacted } from "effect"
import type * as Https from "node:https"
import * as Process from "node:process"
import * as Tls from "node:tls"
import type { ResolvedTls, TlsOptions } from "../NodeNtlmTransport.js"
import { make as makeFiles } from "./tokenStoreFiles.js"

// Through the one hardened reader, by the rules of each kind (LocalFiles): a CA file must be yours
// or root's and not writable by others (a CA another user chose could vouch for any server), a
// private key readable by you alone and never opened through a link.
const readPemFile = (kind: "caFile" | "certificate" | "privateKey") => (file: string) =>
  LocalFiles.readExistingText(file, kind).pipe(
    Effect.provideService(TokenStoreFiles, makeFiles()),
    Effect.mapError((error) => new TransportError({ detail: error.message }))
  )
const readCaFile = readPemFile("caFile")

// The certificate grant's client certificate from files (VEDAUTH_CLIENT_CERT, VEDAUTH_CLIENT_KEY);
// the key is Redacted from the moment it is read.
const readClientCertificate = (files: NonNullable<TlsOptions["clientCertificateFiles"]>) =>
  Effect.all({
    cert: readPemFile("certificate")(files.cert),
    key: Effect.map(readPemFile("privateKey")(files.key), Redacted.make)
  })

/**
 * `NODE_TLS_REJECT_UNAUTHORIZED=0` turns certificate verification off for every connection of the
 * process, ours included: refused unless the caller opted in, and then said aloud.
 * @internal
 */
export const checkVerification = (options: TlsOptions): Effect.Effect<void, TransportError> => {
  if (Process.env["NODE_TLS_REJECT_UNAUTHORIZED"] !== "0") return Effect.void
  if (options.allowUnverifiedTls === true) {
    return Effect.logWarning(
      "vedauth: NODE_TLS_REJECT_UNAUTHORIZED=0: server certificates are not verified (allowUnverifiedTls is set)"
    )
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
 * result trusts the same certificates without reading the file again. Options already in that form
 * come back as they are: the transport and the HTTP client of one layer then share one secure context.
 * @internal
 */
export const resolve = <O extends TlsOptions>(options: O): Effect.Effect<ResolvedTls<O>, TransportError> =>
  Effect.gen(function*() {
    yield* checkVerification(options)
    if (isResolved(options)) return options as unknown as ResolvedTls<O>
    const { ca, caFile, clientCertificateFiles, ...rest } = options
    const inline = ca === undefined ? [] : typeof ca === "string" ? [ca] : [...ca]
    const fromFile = caFile === undefined ? [] : [yield* readCaFile(caFile)]
    const clientCertificate = clientCertificateFiles === undefined
      ? {}
      : { clientCertificate: yield* readClientCertificate(clientCertificateFiles) }
    return { ...rest, ...clientCertificate, ca: [...inline, ...fromFile] }
  })

const isResolved = (options: TlsOptions): boolean =>
  Array.isArray(options.ca) && options.caFile === undefined && options.clientCertificateFiles === undefined

// One secure context per resolved value, built on its first use (a process that finds its token in
// the store never pays for it). Parsing Node's ~140 bundled roots into a context costs tens of
// milliseconds: per connection, that was most of an authorize over HTTPS.
const contexts = new WeakMap<ResolvedTls, Tls.SecureContext>()

const secureContext = (tls: ResolvedTls): Tls.SecureContext => {
  const cached = contexts.get(tls)
  if (cached !== undefined) return cached
  const client = tls.clientCertificate
  // Node replaces its root store when `ca` is given, so the bundled roots are kept and the extra CAs
  // added to them. Secrets leave `Redacted` only here.
  const context = Tls.createSecureContext({
    ...(tls.ca.length === 0 ? {} : { ca: [...Tls.rootCertificates, ...tls.ca] }),
    ...(client === undefined ? {} : {
      cert: client.cert,
      key: Redacted.value(client.key),
      ...(client.passphrase === undefined ? {} : { passphrase: Redacted.value(client.passphrase) })
    })
  })
  contexts.set(tls, context)
  return context
}

/**
 * Agent options with verification left on: the one secure context of these settings (extra CAs on
 * top of Node's roots, the client certificate), the same object for every call with the same value.
 * Without extra CAs or a client certificate, nothing: Node's default context keeps its root store
 * parsed once per process, so there is nothing to save.
 * @internal
 */
export const agentOptions = (tls: ResolvedTls): Https.AgentOptions =>
  tls.ca.length === 0 && tls.clientCertificate === undefined ? {} : { secureContext: secureContext(tls) }

/**
 * `agentOptions` as an effect: a client certificate or key that OpenSSL cannot load (Node throws
 * when the context is built) is a `TransportError` with OpenSSL's reason, which names no secret.
 * @internal
 */
export const loadAgentOptions = (tls: ResolvedTls): Effect.Effect<Https.AgentOptions, TransportError> =>
  Effect.try({
    try: () => agentOptions(tls),
    catch: (error) =>
      new TransportError({ detail: `cannot use the TLS client certificate: ${(error as Error).message}` })
  })
