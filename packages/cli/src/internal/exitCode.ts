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

const byTag: Record<string, number> = {
  ...byVedAuthTag,
  UsageError: ExitCode.Usage,
  NotLoggedIn: ExitCode.Refused,
  ProfilesError: ExitCode.TokenStore,
  ScopeParseError: ExitCode.Usage
}

/** @internal */
export const exitCodeFor = (tag: string): number => byTag[tag] ?? ExitCode.Unexpected
