/** The client's plain options, checked and turned into `NodeVedAuth.Options`. */
import * as Credentials from "@vedauth/core/Credentials"
import type * as NodeNtlmTransport from "@vedauth/platform-node/NodeNtlmTransport"
import type * as NodeVedAuth from "@vedauth/platform-node/NodeVedAuth"
import { Duration, Redacted } from "effect"
// The public declarations are the options' one definition (they name no Effect type).
import type { VedAuthClientOptions } from "../../index.js"
import { VedAuthClientError } from "../VedAuthClientError.js"

export type { VedAuthClientOptions }

/** @internal */
export type Fetch = NonNullable<VedAuthClientOptions["fetch"]>

const invalid = (detail: string) => new VedAuthClientError("InvalidArgument", `InvalidArgument: ${detail}`)

const requireText = (options: Record<string, unknown>, name: string, optional: boolean) => {
  const value = options[name]
  if (value === undefined && optional) return
  if (typeof value !== "string" || value === "") throw invalid(`options.${name} must be a non-empty string`)
}

const requireMillis = (options: Record<string, unknown>, name: string) => {
  const value = options[name]
  if (value !== undefined && !(typeof value === "number" && Number.isFinite(value) && value > 0)) {
    throw invalid(`options.${name} must be a positive number of milliseconds`)
  }
}

const grants = ["integrated", "password", "certificate", "jwt"]

// JavaScript callers get no compile-time check: every field is checked here, with its name.
const check = (options: VedAuthClientOptions): void => {
  if (typeof options !== "object" || options === null) {
    throw invalid("new VedAuthClient(options) needs an options object")
  }
  const record = options as unknown as Record<string, unknown>
  for (const name of ["url", "clientId", "scope"]) requireText(record, name, false)
  for (const name of ["username", "password", "jwtFile", "caFile", "tokenStorePath"]) requireText(record, name, true)
  for (const name of ["refreshWindow", "requestTimeout", "connectTimeout"]) requireMillis(record, name)
  if (options.grant !== undefined && !grants.includes(options.grant)) {
    throw invalid(`options.grant must be one of ${grants.join(", ")}`)
  }
  if (options.grant === "jwt" && options.jwtFile === undefined) {
    throw invalid("options.grant 'jwt' needs options.jwtFile")
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") {
    throw invalid("options.fetch must be a function")
  }
}

const credentials = (options: VedAuthClientOptions): Credentials.Credentials | undefined => {
  switch (options.grant) {
    case "password":
      return Credentials.password
    case "certificate":
      return Credentials.certificate
    case "jwt":
      return Credentials.jwtFile(options.jwtFile!)
    default:
      return undefined
  }
}

const transport = (options: VedAuthClientOptions): NodeNtlmTransport.Options => {
  const certificate = options.clientCertificate
  return {
    ...(options.caFile === undefined ? {} : { caFile: options.caFile }),
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(certificate === undefined ? {} : {
      clientCertificate: {
        cert: certificate.cert,
        key: Redacted.make(certificate.key),
        ...(certificate.passphrase === undefined ? {} : { passphrase: Redacted.make(certificate.passphrase) })
      }
    }),
    ...(options.clientCertificateFiles === undefined ? {} : { clientCertificateFiles: options.clientCertificateFiles }),
    ...(options.allowUnverifiedTls === undefined ? {} : { allowUnverifiedTls: options.allowUnverifiedTls }),
    ...(options.connectTimeout === undefined ? {} : { connectTimeout: Duration.millis(options.connectTimeout) })
  }
}

/**
 * The Node layer's options for the client's: secrets wrapped in `Redacted` at once, milliseconds
 * as durations. Throws `InvalidArgument` for options that cannot be used.
 *
 * @internal
 */
export const toNodeOptions = (options: VedAuthClientOptions): NodeVedAuth.Options => {
  check(options)
  const grant = credentials(options)
  return {
    url: options.url,
    clientId: options.clientId,
    scope: options.scope,
    transport: transport(options),
    ...(grant === undefined ? {} : { credentials: grant }),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: Redacted.make(options.password) }),
    ...(options.tokenStorePath === undefined ? {} : { tokenStorePath: options.tokenStorePath }),
    ...(options.mechanism === undefined ? {} : { mechanism: options.mechanism }),
    ...(options.kerberos === undefined ? {} : { kerberos: options.kerberos }),
    ...(options.refreshWindow === undefined ? {} : { refreshWindow: Duration.millis(options.refreshWindow) }),
    ...(options.requestTimeout === undefined ? {} : { requestTimeout: Duration.millis(options.requestTimeout) }),
    ...(options.allowHttp === undefined ? {} : { allowHttp: options.allowHttp })
  }
}
