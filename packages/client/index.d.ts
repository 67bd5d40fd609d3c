// The public types of @vedauth/client, written by hand so that they name no Effect type: a program
// type-checks them with only @types/node (no DOM lib, skipLibCheck off), whatever Effect it has.
// test/declarations.ts checks that the implementation (src/) matches them.

/** The library's documented error tags, and the client's own. */
export type VedAuthClientErrorTag =
  | "InvalidClient"
  | "InvalidRequest"
  | "InvalidScope"
  | "InvalidGrant"
  | "UnauthorizedClient"
  | "GrantIssueFailed"
  | "UnhandledIdentityClaim"
  | "InvalidToken"
  | "InsufficientScope"
  | "AuthenticationFailed"
  | "NtlmProtocolError"
  | "KerberosError"
  | "TransportError"
  | "UnexpectedResponse"
  | "TokenStoreError"
  /** A `VEDAUTH_*` variable missing or malformed (`fromEnv`). */
  | "ConfigError"
  /** An option or argument that cannot be used (a URL of another origin for `fetch`, ...). */
  | "InvalidArgument"
  /** The call's `signal` was aborted. */
  | "Aborted"
  /** The client was closed. */
  | "Closed"
  /** A bug: please report it. */
  | "Defect"

/** How to reach the server and whom to authorize as. Durations are in milliseconds. */
export interface VedAuthClientOptions {
  /** Base URL of the TPP server, e.g. `https://tpp.example.com`. */
  readonly url: string
  /** The API integration's Application ID. */
  readonly clientId: string
  /** The scope to request, e.g. `certificate:manage,revoke;configuration`. */
  readonly scope: string
  /** How to authorize; default `integrated` (Windows: NTLM or Kerberos). `jwt` needs `jwtFile`. */
  readonly grant?: "integrated" | "password" | "certificate" | "jwt"
  /** `DOMAIN\user` or `user@domain`. */
  readonly username?: string
  /** The Windows password (integrated and password grants). */
  readonly password?: string
  /** The file holding the JWT of the `jwt` grant, read at each authorize. */
  readonly jwtFile?: string
  /** A PEM file of extra trusted CA certificates. */
  readonly caFile?: string
  /** Extra trusted CA certificates (PEM). */
  readonly ca?: string | ReadonlyArray<string>
  /** The TLS client certificate (PEM) of the `certificate` grant. */
  readonly clientCertificate?: { readonly cert: string; readonly key: string; readonly passphrase?: string }
  /** The same, from PEM files. */
  readonly clientCertificateFiles?: { readonly cert: string; readonly key: string }
  /** The token store file; default `VEDAUTH_TOKEN_STORE`, else under `XDG_STATE_HOME` or `HOME`. */
  readonly tokenStorePath?: string
  /** `negotiate` (default), `kerberos` or `ntlm`. */
  readonly mechanism?: "negotiate" | "kerberos" | "ntlm"
  /** Kerberos settings; their presence lets `negotiate` try Kerberos. */
  readonly kerberos?: {
    readonly realm?: string
    readonly kdc?: string | ReadonlyArray<string>
    readonly spn?: string
    readonly keytab?: string
    readonly cache?: string
    /** The system's Kerberos, through the optional `kerberos` package. */
    readonly system?: boolean
  }
  /** Refresh when less than this is left of the access token (ms; default 10% of its lifetime, 30 s to 5 min). */
  readonly refreshWindow?: number
  /** The longest one call to the server may take (ms; default 30000). */
  readonly requestTimeout?: number
  /** TCP and TLS connect timeout of the Windows-authenticated call (ms; default 10000). */
  readonly connectTimeout?: number
  /** Allow plain `http://` to a host other than loopback. */
  readonly allowHttp?: boolean
  /** Go on when `NODE_TLS_REJECT_UNAUTHORIZED=0` is set (with a warning). */
  readonly allowUnverifiedTls?: boolean
  /** The `fetch` that `client.fetch` calls; default the platform's global `fetch`. */
  readonly fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
}

/** Each call takes a signal: aborting it interrupts the call, which rejects with `Aborted`. */
export interface CallOptions {
  readonly signal?: AbortSignal
}

/** What `revoke` did. */
export interface RevokeResult {
  /** `Revoked` (200), `NotFound` (202: the server did not know it), `NothingStored` (no grant to revoke). */
  readonly outcome: "Revoked" | "NotFound" | "NothingStored"
  readonly reason: string
}

/** What the server said, when it said anything. */
export interface VedAuthClientErrorDetails {
  readonly status?: number
  readonly description?: string
  readonly reason?: string
}

/** Every call rejects with this. Never holds a token or a password. */
export declare class VedAuthClientError extends Error {
  readonly name: "VedAuthClientError"
  readonly _tag: VedAuthClientErrorTag | (string & {})
  /** The HTTP status code. */
  readonly status: number | undefined
  /** The server's `error_description` (or the text of a 401). */
  readonly description: string | undefined
  /** The HTTP reason phrase. */
  readonly reason: string | undefined
  constructor(tag: string, message: string, details?: VedAuthClientErrorDetails)
}

/** The managed grant: scope, identity and expiries. It holds no token. */
export declare class VedAuthGrant {
  private constructor()
  readonly scope: string
  readonly identity: string
  readonly tokenType: string
  readonly issuedAt: Date
  readonly expiresAt: Date
  readonly refreshUntil: Date | undefined
  toJSON(): {
    scope: string
    identity: string
    tokenType: string
    issuedAt: string
    expiresAt: string
    refreshUntil: string | undefined
  }
  toString(): string
}

/** VEDauth's managed token as Promises, the runtime inside. */
export declare class VedAuthClient {
  /** Checks the options (throws `InvalidArgument`); nothing is read or sent before the first call. */
  constructor(options: VedAuthClientOptions)
  /** The same `VEDAUTH_*` variables as `NodeVedAuth.layerConfig()`, read on the first call. */
  static fromEnv(options?: { readonly fetch?: VedAuthClientOptions["fetch"] }): VedAuthClient
  /** The managed grant's access token: stored, refreshed once for everyone, re-authorized. */
  accessToken(options?: CallOptions): Promise<string>
  /** The managed grant. */
  grant(options?: CallOptions): Promise<VedAuthGrant>
  /**
   * The platform's `fetch` with the bearer token, to the server's origin only (a relative URL is
   * read against `url`); on a 401 the grant is renewed and the request sent once more (give a body
   * that can be sent twice); a 403 rejects with `InsufficientScope`.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>
  /** Revokes the stored grant and removes it from the store. */
  revoke(options?: CallOptions): Promise<RevokeResult>
  /** Interrupts the calls in flight and closes the runtime; later calls reject with `Closed`. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
