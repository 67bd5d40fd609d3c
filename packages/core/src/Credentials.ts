/**
 * How a layer authorizes: one choice among the VEDauth grants. The managed token re-authorizes
 * with whichever was configured.
 *
 * - `Integrated` (the default): authorize/integrated with Windows credentials, the top-level
 *   `username` and `password` of `VedAuth.Options` (kept there so that Kerberos and NTLM options of
 *   the Windows handshake stay beside them).
 * - `Password`: authorize/oauth with the same top-level `username` and `password`.
 * - `Certificate`: authorize/certificate; the identity is the TLS client certificate, which the
 *   platform's HTTP client presents (`clientCertificate` of the Node and Deno layers).
 * - `Jwt`: authorize/jwt (TPP 22.4+) with a JWT read anew at each authorize, from a file (a
 *   projected service-account token rotates) or from an effect.
 * - `Device`: authorize/device, then RFC 8628 polling of authorize/token; the user code and
 *   verification URI go to `prompt`.
 *
 * @since 0.1.0
 */
import type { Effect, Redacted } from "effect"
import type * as VedAuthError from "./VedAuthError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Integrated {
  readonly _tag: "Integrated"
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Password {
  readonly _tag: "Password"
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Certificate {
  readonly _tag: "Certificate"
}

/**
 * Where the JWT comes from: a file read at each authorize through the hardened reader (needs a
 * `TokenStoreFiles` in the layer's context, as the Node and Deno layers provide; see `LocalFiles`:
 * a regular file of at most 1 MiB, owned by you or root, not writable by group or others; a link,
 * as a Kubernetes projected token is, is followed and its target judged), or an effect run at each
 * authorize.
 *
 * @since 0.1.0
 * @category models
 */
export type JwtSource =
  | { readonly file: string }
  | { readonly effect: Effect.Effect<Redacted.Redacted<string>, VedAuthError.AuthenticationFailed> }

/**
 * @since 0.1.0
 * @category models
 */
export interface Jwt {
  readonly _tag: "Jwt"
  readonly source: JwtSource
}

/**
 * What a person needs to approve a device authorization: go to `verificationUri` and enter
 * `userCode` (or open `verificationUriComplete`). Neither is a secret; the device code is, and it
 * never leaves the library.
 *
 * @since 0.1.0
 * @category models
 */
export interface DevicePrompt {
  readonly userCode: string
  readonly verificationUri: string
  readonly verificationUriComplete: string | undefined
  /** Seconds the code is good for. */
  readonly expiresIn: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Device {
  readonly _tag: "Device"
  /** Shows the prompt to the person (the CLI writes it to stderr). Default: an info log line. */
  readonly prompt: (prompt: DevicePrompt) => Effect.Effect<void>
}

/**
 * @since 0.1.0
 * @category models
 */
export type Credentials = Integrated | Password | Certificate | Jwt | Device

/**
 * The grant names used by configuration (`VEDAUTH_GRANT`) and the CLI (`--grant`).
 *
 * @since 0.1.0
 * @category models
 */
export type GrantName = "integrated" | "password" | "certificate" | "jwt" | "device"

/**
 * @since 0.1.0
 * @category models
 */
export const grantNames: ReadonlyArray<GrantName> = ["integrated", "password", "certificate", "jwt", "device"]

/**
 * @since 0.1.0
 * @category constructors
 */
export const integrated: Integrated = { _tag: "Integrated" }

/**
 * @since 0.1.0
 * @category constructors
 */
export const password: Password = { _tag: "Password" }

/**
 * @since 0.1.0
 * @category constructors
 */
export const certificate: Certificate = { _tag: "Certificate" }

/**
 * A JWT read from this file at each authorize.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jwtFile = (file: string): Jwt => ({ _tag: "Jwt", source: { file } })

/**
 * A JWT from this effect, run at each authorize.
 *
 * @since 0.1.0
 * @category constructors
 */
export const jwt = (effect: Effect.Effect<Redacted.Redacted<string>, VedAuthError.AuthenticationFailed>): Jwt => ({
  _tag: "Jwt",
  source: { effect }
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const device = (prompt: (prompt: DevicePrompt) => Effect.Effect<void>): Device => ({ _tag: "Device", prompt })

/**
 * True for the grants that send the top-level username and password.
 *
 * @since 0.1.0
 * @category predicates
 */
export const usesPassword = (credentials: Credentials): boolean =>
  credentials._tag === "Integrated" || credentials._tag === "Password"

/**
 * The name of a grant, as configuration spells it.
 *
 * @since 0.1.0
 * @category getters
 */
export const grantName = (credentials: Credentials): GrantName => credentials._tag.toLowerCase() as GrantName
