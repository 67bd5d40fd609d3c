/**
 * The selectors every command takes, defined once: the @effect/cli options of the full CLI and the
 * lean argument parser of the `token` fast path are both built from this table.
 * @internal
 */
export const textSelectors = [
  { key: "url", flag: "url", env: "VEDAUTH_URL", required: true, description: "Base URL of the TPP server, e.g. https://tpp.example.com" },
  { key: "clientId", flag: "client-id", env: "VEDAUTH_CLIENT_ID", required: true, description: "The API integration's Application ID" },
  {
    key: "scope",
    flag: "scope",
    env: "VEDAUTH_SCOPE",
    required: true,
    description: "Scope to request, e.g. 'certificate:manage,revoke;configuration'"
  },
  { key: "username", flag: "username", env: "VEDAUTH_USERNAME", required: false, description: "Windows user as DOMAIN\\user or user@domain" },
  { key: "caFile", flag: "ca-file", env: "VEDAUTH_CA_FILE", required: false, description: "PEM file of extra CA certificates to trust" },
  {
    key: "store",
    flag: "store",
    env: "VEDAUTH_TOKEN_STORE",
    required: false,
    description: "Token store file (default under XDG_STATE_HOME or ~/.local/state)"
  }
] as const

/** @internal */
export const booleanSelectors = [
  {
    key: "passwordStdin",
    flag: "password-stdin",
    description: "Read the password from standard input (else VEDAUTH_PASSWORD, else a prompt on a terminal)"
  },
  { key: "verbose", flag: "verbose", description: "Say more on errors (never secrets)" }
] as const

/** @internal */
export type Selected = {
  readonly url: string
  readonly clientId: string
  readonly scope: string
  readonly username: string | undefined
  readonly caFile: string | undefined
  readonly store: string | undefined
  readonly passwordStdin: boolean
  readonly verbose: boolean
}
