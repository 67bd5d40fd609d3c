import type { Duration } from "effect"
import { Redacted } from "effect"

/**
 * The resolved configuration the handler reads. Public option types live in `Simulator.ts`; this
 * module only fills in defaults so that the rest of the simulator never sees an `undefined`.
 */

/** @internal */
export type GrantType = "integrated" | "oauth" | "certificate" | "jwt" | "device"

/** @internal */
export interface UserConfig {
  readonly domain: string
  readonly name: string
  readonly password: Redacted.Redacted<string>
  readonly identity: string
  readonly unmappableIdentity: boolean
  readonly grantFailure: string | undefined
}

/** @internal */
export interface IntegrationConfig {
  readonly clientId: string
  readonly scope: string
  readonly refresh: boolean
  readonly tokenLifetime: Duration.DurationInput
  readonly grantLifetime: Duration.DurationInput
  /** `DOMAIN\name` keys, upper-cased; undefined lets every configured user in. */
  readonly users: ReadonlyArray<string> | undefined
  readonly grantTypes: ReadonlyArray<GrantType>
}

/** @internal */
export type SchemeName = "Negotiate" | "NTLM"

/** @internal */
export interface DeviceConfig {
  readonly intervalSeconds: number
  readonly expiresInSeconds: number
  /** Approve a code on the poll after this many (for `simulate`); undefined: only `approveDevice`. */
  readonly autoApproveAfterPolls: number | undefined
  /** Who approves when no login is given. */
  readonly approver: string
  readonly slowDownPolls: number
  /** The link answered instead of the server's own page. */
  readonly verificationUri: string | undefined
}

/** @internal */
export interface JwtConfig {
  readonly issuer: string
  readonly audience: string
  /** The issuer's RS256 public key (SPKI PEM); undefined: the simulator generates a pair. */
  readonly publicKeyPem: string | undefined
}

/** @internal */
export interface ResolvedConfig {
  readonly device: DeviceConfig
  readonly jwt: JwtConfig
  readonly users: ReadonlyArray<UserConfig>
  readonly integrations: ReadonlyArray<IntegrationConfig>
  readonly schemes: ReadonlyArray<SchemeName>
  readonly channelBindings: "required" | "when-present"
  readonly defaultDomain: string
  readonly maxBodyBytes: number
  readonly maxGrants: number
  readonly serverName: string
}

/** @internal */
export const userKey = (domain: string, name: string): string => `${domain}\\${name}`.toUpperCase()

/** @internal */
export const defaultUser: UserConfig = {
  domain: "CORP",
  name: "alice",
  password: Redacted.make("Passw0rd!"),
  identity: "AD+corp:{4f3c2a10-7d5e-4b8a-9c1f-2e6d8b0a5c31}",
  unmappableIdentity: false,
  grantFailure: undefined
}

/** @internal */
export const defaultIntegration: IntegrationConfig = {
  clientId: "vedauth-demo",
  scope: "certificate:manage,revoke;configuration:manage",
  refresh: true,
  tokenLifetime: "1 hour",
  grantLifetime: "1 day",
  users: undefined,
  grantTypes: ["integrated", "oauth", "certificate", "jwt", "device"]
}

// A stable GUID-shaped identity for users configured without one (FNV-1a over the name): the same
// configuration always yields the same identity, so tests can assert on it.
/** @internal */
export const identityFor = (domain: string, name: string): string => {
  const words: Array<string> = []
  let hash = 0x811c9dc5
  for (let round = 0; round < 4; round++) {
    for (const char of `${round}:${domain.toLowerCase()}\\${name.toLowerCase()}`) {
      hash ^= char.charCodeAt(0)
      hash = Math.imul(hash, 0x01000193) >>> 0
    }
    words.push(hash.toString(16).padStart(8, "0"))
  }
  const hex = words.join("")
  return `AD+${domain.toLowerCase()}:{${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${
    hex.slice(16, 20)
  }-${hex.slice(20, 32)}}`
}
