/**
 * The chosen grant in the full command line: a usage error when it is not usable, and what it adds
 * to the VedAuth layer (core's `Credentials`, the client certificate for the certificate grant, the
 * device flow's prompt on stderr).
 * @internal
 */
import * as Credentials from "@vedauth/core/Credentials"
import * as LocalFiles from "@vedauth/core/LocalFiles"
import * as NodeTokenStoreFiles from "@vedauth/platform-node/NodeTokenStoreFiles"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto"
import { UsageError } from "./errors.js"
import { chooseGrant, type GrantChoice } from "./grantChoice.js"
import type { Selection } from "./selection.js"
import type { Flags } from "./spec.js"
import { safeText } from "./terminalText.js"

// Why a client certificate and key cannot be used, found before any connection: Node's TLS would
// otherwise fail deep in the layer (an encrypted key, a key of another certificate, not PEM at all).
// The words name the files, never their content.
const keyPairProblem = (cert: string, certPem: string, key: string, keyPem: string): string | undefined => {
  let certificate: X509Certificate
  try {
    certificate = new X509Certificate(certPem)
  } catch {
    return `'${safeText(cert)}' is not a PEM certificate (--client-cert)`
  }
  // PKCS#8 and the older OpenSSL form: asked for a passphrase, Node's TLS would fail, not prompt.
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(keyPem)) {
    return `the client key in '${
      safeText(key)
    }' is encrypted: give it without a passphrase, readable only by you (--client-key)`
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(keyPem)
  } catch {
    return `'${safeText(key)}' is not a PEM private key (--client-key)`
  }
  return certificate.checkPrivateKey(privateKey)
    ? undefined
    : `the key in '${safeText(key)}' is not the key of the certificate in '${safeText(cert)}' (--client-key)`
}

// Both files through the one hardened reader (LocalFiles): the key must be readable by you alone
// and is never opened through a link; the certificate may be a link, and anyone's.
const clientCertificateProblem = (cert: string, key: string) =>
  Effect.all([LocalFiles.readExistingText(cert, "certificate"), LocalFiles.readExistingText(key, "privateKey")]).pipe(
    Effect.map(([certPem, keyPem]) => keyPairProblem(cert, certPem, key, keyPem)),
    Effect.catchTag(
      "LocalFileError",
      (error) => Effect.succeed(`${safeText(error.message)} (${error.path === key ? "--client-key" : "--client-cert"})`)
    ),
    Effect.provide(NodeTokenStoreFiles.layer)
  )

/** The command's grant, or a usage error saying what is missing. @internal */
export const targetGrant = (flags: Flags, selection: Selection): Effect.Effect<GrantChoice, UsageError> => {
  const result = chooseGrant(flags, selection)
  if (result._tag === "Problem") return Effect.fail(new UsageError({ detail: result.detail }))
  const { clientCert, clientKey } = result.choice
  if (clientCert === undefined || clientKey === undefined) return Effect.succeed(result.choice)
  return Effect.flatMap(
    clientCertificateProblem(clientCert, clientKey),
    (problem) =>
      problem === undefined ? Effect.succeed(result.choice) : Effect.fail(new UsageError({ detail: problem }))
  )
}

const minutes = (seconds: number) => (seconds >= 120 ? `${Math.floor(seconds / 60)} minutes` : `${seconds} seconds`)

/**
 * The device flow's prompt: what the person must do, on stderr (stdout is for the result). The
 * server's words are shown escaped; the device code is not here at all (core keeps it).
 * @internal
 */
export const deviceLines = (prompt: Credentials.DevicePrompt): string =>
  [
    `To authorize, open ${safeText(prompt.verificationUri)} and enter the code ${safeText(prompt.userCode)}`,
    ...(prompt.verificationUriComplete === undefined
      ? []
      : [`  (or open ${safeText(prompt.verificationUriComplete)})`]),
    `The code is good for ${minutes(prompt.expiresIn)}. Waiting for approval (Ctrl-C to stop)...`
  ].join("\n")

const credentialsOf = (grant: GrantChoice): Credentials.Credentials => {
  switch (grant.name) {
    case "integrated":
      return Credentials.integrated
    case "password":
      return Credentials.password
    case "certificate":
      return Credentials.certificate
    case "jwt":
      // `chooseGrant` made sure the file is there; core reads it anew at each authorize.
      return Credentials.jwtFile(grant.jwtFile ?? "")
    case "device":
      return Credentials.device((prompt) => Console.error(deviceLines(prompt)))
  }
}

/**
 * What the grant adds to `NodeVedAuth.layer`'s options: the credentials, and for the certificate
 * grant the client certificate every connection presents.
 * @internal
 */
export const grantOptions = (grant: GrantChoice | undefined) =>
  grant === undefined ? {} : { credentials: credentialsOf(grant) }

/** The grant's part of the transport's TLS options. @internal */
export const grantTransport = (grant: GrantChoice | undefined) =>
  grant?.clientCert === undefined || grant.clientKey === undefined
    ? {}
    : { clientCertificateFiles: { cert: grant.clientCert, key: grant.clientKey } }
