/**
 * The CLI's exit codes, a contract scripts depend on.
 * @internal
 */
export const ExitCode = {
  Ok: 0,
  Usage: 1,
  Refused: 2,
  CredentialsRejected: 3,
  Transport: 4,
  Unexpected: 5,
  TokenStore: 6,
  /** Stopped before it finished (128 + SIGINT when the signal is not known). */
  Interrupted: 130
} as const

import type { VedAuthError } from "@vedauth/core"
import { type CliError, CommandExited, CommandNotStarted } from "./errors.js"

// Typed by core's union: a new vedauth error does not compile until it has an exit code here.
const byVedAuthTag: Record<VedAuthError.VedAuthError["_tag"], number> = {
  InvalidClient: ExitCode.Refused,
  InvalidRequest: ExitCode.Refused,
  InvalidScope: ExitCode.Refused,
  InvalidGrant: ExitCode.Refused,
  UnauthorizedClient: ExitCode.Refused,
  GrantIssueFailed: ExitCode.Refused,
  UnhandledIdentityClaim: ExitCode.Refused,
  InvalidToken: ExitCode.Refused,
  InsufficientScope: ExitCode.Refused,
  AuthenticationFailed: ExitCode.CredentialsRejected,
  NtlmProtocolError: ExitCode.Unexpected,
  KerberosError: ExitCode.Unexpected,
  TransportError: ExitCode.Transport,
  UnexpectedResponse: ExitCode.Unexpected,
  TokenStoreError: ExitCode.TokenStore
}

// Typed by the CLI's union the same way; `vedauth run`'s errors carry their own code.
const byTag: Record<Exclude<CliError, CommandExited | CommandNotStarted>["_tag"], number> = {
  ...byVedAuthTag,
  UsageError: ExitCode.Usage,
  NotLoggedIn: ExitCode.Refused,
  ProfilesError: ExitCode.TokenStore,
  // A setting the library could not read.
  ConfigError: ExitCode.Unexpected,
  ServeError: ExitCode.Unexpected,
  RequestError: ExitCode.Unexpected,
  ResponseError: ExitCode.Unexpected
}

/** @internal */
export const exitCodeFor = (error: CliError): number =>
  error instanceof CommandExited || error instanceof CommandNotStarted ? error.exitCode : byTag[error._tag]
