/**
 * authorize/jwt (TPP 22.4+) with a trusted issuer: an RS256 JWT whose signature verifies with the
 * issuer's public key (one given as SPKI PEM, or a key pair the simulator generates on first use,
 * whose `signJwt` tests mint tokens with), whose `exp` has not passed and `nbf` has, and whose
 * `iss` and `aud` are the configured ones. The subject (`sub`) names the user, as an identity
 * provider's claim mapping does; one no user matches is "Unhandled identity claim type".
 */
import { Clock, Effect } from "effect"
import type { HandlerContext } from "./context.js"
import type { SimRequest } from "./http.js"
import { oauthError, parseJsonObject, stringField, text } from "./http.js"
import { checkClient, issue, lookupUser } from "./vedauth.js"

const rs256 = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const

const base64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")

const fromBase64url = (text: string): Uint8Array<ArrayBuffer> | undefined => {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return undefined
  try {
    return Uint8Array.from(atob(text.replace(/-/g, "+").replace(/_/g, "/")), (char) => char.charCodeAt(0))
  } catch {
    return undefined
  }
}

const pemBody = (pem: string): Uint8Array<ArrayBuffer> | undefined =>
  fromBase64url(
    pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "").replace(/\+/g, "-").replace(/\//g, "_")
      .replace(/=+$/, "")
  )

/** The issuer's keys: a public key to verify, and the private key when the simulator made the pair. @internal */
export interface IssuerKeys {
  readonly publicKey: CryptoKey
  readonly privateKey: CryptoKey | undefined
  readonly publicKeyPem: string
}

/** @internal */
export const importIssuer = (publicKeyPem: string): Promise<IssuerKeys> => {
  const der = pemBody(publicKeyPem)
  if (der === undefined) return Promise.reject(new Error("the JWT issuer's public key is not PEM"))
  return crypto.subtle.importKey("spki", der, rs256, true, ["verify"]).then((publicKey) => ({
    publicKey,
    privateKey: undefined,
    publicKeyPem
  }))
}

/** @internal */
export const generateIssuer = async (): Promise<IssuerKeys> => {
  const pair = await crypto.subtle.generateKey(
    { ...rs256, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"]
  )
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", pair.publicKey))
  const lines = btoa(String.fromCharCode(...spki)).match(/.{1,64}/g) ?? []
  return {
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
    publicKeyPem: `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`
  }
}

/** Signs claims as the issuer (RS256). @internal */
export const sign = async (privateKey: CryptoKey, claims: Record<string, unknown>): Promise<string> => {
  const encoder = new TextEncoder()
  const input = `${base64url(encoder.encode(JSON.stringify({ alg: "RS256", typ: "JWT" })))}.${
    base64url(encoder.encode(JSON.stringify(claims)))
  }`
  const signature = new Uint8Array(await crypto.subtle.sign(rs256, privateKey, encoder.encode(input)))
  return `${input}.${base64url(signature)}`
}

const decodeJson = (part: string): Record<string, unknown> | undefined => {
  const bytes = fromBase64url(part)
  return bytes === undefined ? undefined : parseJsonObject(bytes)
}

const audiences = (aud: unknown): ReadonlyArray<unknown> => Array.isArray(aud) ? aud : [aud]

/** Why a JWT is not to be trusted, or its claims. @internal */
export const verify = (keys: IssuerKeys, jwt: string, now: number, issuer: string, audience: string) =>
  Effect.promise(async (): Promise<{ readonly claims: Record<string, unknown> } | { readonly why: string }> => {
    const parts = jwt.split(".")
    if (parts.length !== 3) return { why: "it is not a signed JWT" }
    const [headerPart, claimsPart, signaturePart] = parts as [string, string, string]
    const header = decodeJson(headerPart)
    const claims = decodeJson(claimsPart)
    const signature = fromBase64url(signaturePart)
    if (header === undefined || claims === undefined || signature === undefined) return { why: "it does not decode" }
    if (header.alg !== "RS256") return { why: `the algorithm ${String(header.alg)} is not accepted` }
    const valid = await crypto.subtle.verify(
      rs256,
      keys.publicKey,
      signature,
      new TextEncoder().encode(`${headerPart}.${claimsPart}`)
    )
    if (!valid) return { why: "the signature does not verify" }
    if (typeof claims.exp !== "number") return { why: "it has no expiry (exp)" }
    if (now >= claims.exp * 1000) return { why: "it has expired" }
    if (typeof claims.nbf === "number" && now < claims.nbf * 1000) return { why: "it is not valid yet (nbf)" }
    if (claims.iss !== issuer) return { why: "the issuer (iss) is not trusted" }
    if (!audiences(claims.aud).includes(audience)) return { why: "the audience (aud) is not this server" }
    return { claims }
  })

/** POST vedauth/authorize/jwt. @internal */
export const authorizeJwt = (ctx: HandlerContext, request: SimRequest) =>
  Effect.gen(function*() {
    const body = parseJsonObject(request.body)
    if (body === undefined) return oauthError("invalid_request", "The request body is not valid JSON")
    const integration = checkClient(ctx, stringField(body, "client_id"), "jwt")
    if ("status" in integration) return integration
    const jwt = stringField(body, "jwt")
    if (jwt === undefined || jwt === "") return oauthError("invalid_request", "jwt is required")
    const keys = yield* ctx.jwtIssuer
    const now = yield* Clock.currentTimeMillis
    const verdict = yield* verify(keys, jwt, now, ctx.config.jwt.issuer, ctx.config.jwt.audience)
    if ("why" in verdict) return oauthError("invalid_grant", `The JWT is invalid: ${verdict.why}`)
    const subject = verdict.claims.sub
    const user = typeof subject === "string" ? lookupUser(ctx, subject) : undefined
    if (user === undefined) return text(401, "Unhandled identity claim type", "Unhandled identity claim type")
    return yield* issue(ctx, integration, user, stringField(body, "scope"), stringField(body, "state"))
  })
