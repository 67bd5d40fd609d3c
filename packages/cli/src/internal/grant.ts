/**
 * The chosen grant in the full command line: a usage error when it is not usable, and what it adds
 * to the VedAuth layer (core's `Credentials`, the client certificate for the certificate grant, the
 * device flow's prompt on stderr).
 * @internal
 */
import * as Credentials from "@vedauth/core/Credentials"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { UsageError } from "./errors.js"
import { chooseGrant, type GrantChoice } from "./grantChoice.js"
import type { Selection } from "./selection.js"
import type { Flags } from "./spec.js"
import { safeText } from "./terminalText.js"

/** The command's grant, or a usage error saying what is missing. @internal */
export const targetGrant = (flags: Flags, selection: Selection): Effect.Effect<GrantChoice, UsageError> => {
  const result = chooseGrant(flags, selection)
  return result._tag === "Choice" ? Effect.succeed(result.choice) : Effect.fail(new UsageError({ detail: result.detail }))
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
    ...(prompt.verificationUriComplete === undefined ? [] : [`  (or open ${safeText(prompt.verificationUriComplete)})`]),
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
