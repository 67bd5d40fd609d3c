/**
 * Windows authentication per connection, as IIS does it in front of authorize/integrated:
 * anonymous -> 401 with one `WWW-Authenticate` per offered scheme; NEGOTIATE -> 401 CHALLENGE;
 * AUTHENTICATE -> verified (NTLMv2 proof, MIC, channel bindings over TLS), the challenge spent
 * either way; the connection then stays authenticated for its later requests.
 */
import { ChannelBindings, Failure } from "@vedauth/winauth"
import { NtlmServer } from "@vedauth/winauth/server"
import { Clock, Effect, Either, Redacted } from "effect"
import type { SchemeName, UserConfig } from "./config.js"
import type { Connection, HandlerContext } from "./context.js"
import type { SimRequest, SimResponse } from "./http.js"
import { text } from "./http.js"
import { fileTime, fromBase64, newServerChallenge, toBase64 } from "./tokens.js"
import { findUser } from "./vedauth.js"

/** @internal */
export type Gate =
  | { readonly _tag: "Respond"; readonly response: SimResponse }
  | {
    readonly _tag: "Proceed"
    readonly user: UserConfig
    /** Kerberos' mutual authentication: `WWW-Authenticate: Negotiate <AP-REP>` on the answer. */
    readonly wwwAuthenticate?: string
  }

const deniedPage = "401 - Unauthorized: Access is denied due to invalid credentials."

const unauthorized = (schemeHeaders: ReadonlyArray<string>): Gate => ({
  _tag: "Respond",
  response: text(401, "Unauthorized", deniedPage, { "www-authenticate": schemeHeaders })
})

const signature = [0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00] // "NTLMSSP\0"

const messageType = (bytes: Uint8Array): number | undefined => {
  if (bytes.length < 12 || signature.some((byte, i) => bytes[i] !== byte)) return undefined
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true)
}

// A token the server answers for: `<scheme> <base64>` with an offered scheme.
const readToken = (offered: ReadonlyArray<SchemeName>, header: string | undefined) => {
  if (header === undefined) return undefined
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(header)
  if (match === null) return undefined
  const scheme = offered.find((name) => name.toLowerCase() === match[1]!.toLowerCase())
  return scheme === undefined ? undefined : { scheme, bytes: fromBase64(match[2]!) }
}

// The server halves are pure; guard it all the same so a codec bug becomes a refusal, not a crash.
const guarded = <A>(f: () => A): Either.Either<A, unknown> => {
  try {
    return Either.right(f())
  } catch (error) {
    return Either.left(error)
  }
}

// The connection's tls-server-end-point bindings over TLS (none over plain HTTP).
const bindingsOf = (connection: Connection): Uint8Array | undefined => {
  const tls = connection.tls
  if (tls === undefined) return undefined
  const computed = guarded(() => ChannelBindings.tlsServerEndPoint(tls.certificateDer))
  return Either.isRight(computed) ? computed.right : undefined
}

/** @internal */
export const gate = (ctx: HandlerContext, connection: Connection, request: SimRequest): Effect.Effect<Gate> =>
  Effect.gen(function*() {
    const offered = ctx.config.schemes
    const token = readToken(offered, request.headers["authorization"])
    if (token === undefined && connection.auth._tag === "Authenticated") {
      return { _tag: "Proceed", user: connection.auth.user } as const
    }
    yield* Effect.sync(() => {
      connection.handshakeRequests++
    })
    if (token === undefined) return unauthorized(offered)
    const rejectWith = (scheme: SchemeName, why: string = "malformed"): Gate => {
      connection.auth = { _tag: "Anonymous" }
      ctx.state.counters.handshakesRejected++
      ctx.state.rejections[why] = (ctx.state.rejections[why] ?? 0) + 1
      return unauthorized([scheme])
    }
    if (token.bytes === undefined) return yield* Effect.sync(() => rejectWith(token.scheme))
    const type = messageType(token.bytes)
    if (type === undefined && token.scheme === "Negotiate" && ctx.kerberos !== undefined) {
      return yield* acceptKerberos(ctx, connection, token.bytes, (why) => rejectWith("Negotiate", why))
    }
    if (type === 1) return yield* answerNegotiate(ctx, connection, token.scheme, token.bytes)
    if (type !== 3) return yield* Effect.sync(() => rejectWith(token.scheme))
    const bytes = token.bytes
    return yield* Effect.sync((): Gate => {
      const pending = connection.auth
      // Single use: whatever happens next, this challenge is spent.
      connection.auth = { _tag: "Anonymous" }
      if (pending._tag !== "Challenged") return rejectWith(token.scheme, "no-challenge")
      const parsed = guarded(() => NtlmServer.parseAuthenticate(bytes))
      if (Either.isLeft(parsed)) return rejectWith(token.scheme)
      const authenticate = parsed.right
      const user = findUser(ctx, authenticate.domain, authenticate.username)
      const channelBindings = bindingsOf(connection)
      const verdict = guarded(() =>
        NtlmServer.verify({
          negotiate: pending.negotiate,
          challenge: pending.challenge,
          serverChallenge: pending.serverChallenge,
          authenticate,
          password: user === undefined ? undefined : Redacted.value(user.password),
          ...(channelBindings === undefined ? {} : { channelBindings }),
          requireChannelBindings: connection.tls !== undefined && ctx.config.channelBindings === "required"
        })
      )
      if (Either.isLeft(verdict)) return rejectWith(token.scheme, "verifier-defect")
      if (verdict.right !== undefined) return rejectWith(token.scheme, verdict.right)
      if (user === undefined) return rejectWith(token.scheme, "unknown-user")
      connection.auth = { _tag: "Authenticated", user }
      ctx.state.counters.handshakesCompleted++
      ctx.state.recordRoundTrips(connection.handshakeRequests)
      connection.handshakeRequests = 0
      return { _tag: "Proceed", user }
    })
  })

const answerNegotiate = (ctx: HandlerContext, connection: Connection, scheme: SchemeName, negotiate: Uint8Array) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const faults = yield* ctx.faults.get
    const serverChallenge = newServerChallenge()
    const built = guarded(() =>
      NtlmServer.challenge({
        serverChallenge,
        targetName: ctx.config.defaultDomain,
        timestamp: fileTime(now),
        dnsDomain: `${ctx.config.defaultDomain.toLowerCase()}.example`,
        dnsComputer: `${ctx.config.serverName.toLowerCase()}.${ctx.config.defaultDomain.toLowerCase()}.example`
      })
    )
    if (Either.isLeft(built)) return unauthorized([scheme])
    // A truncated CHALLENGE: the header fields promise TargetInfo the message does not carry.
    const challenge = faults.malformedChallenge === true ? built.right.slice(0, 40) : built.right
    yield* Effect.sync(() => {
      connection.auth = { _tag: "Challenged", scheme, negotiate, challenge, serverChallenge }
    })
    const response = text(401, "Unauthorized", deniedPage, { "www-authenticate": [`${scheme} ${toBase64(challenge)}`] })
    if (faults.dropAfterNegotiate === true) {
      return { _tag: "Respond", response: { ...response, connection: "drop" } } as const
    }
    if (faults.closeAfterNegotiate === true) {
      return {
        _tag: "Respond",
        response: { ...response, headers: { ...response.headers, connection: "close" }, connection: "close" }
      } as const
    }
    return { _tag: "Respond", response } as const
  })

// Kerberos authenticates the request (and, as IIS keeps it, the connection); the AP-REP goes back
// on the answer. A refusal is a bare `Negotiate` 401, counted under the protocol's error name.
const acceptKerberos = (
  ctx: HandlerContext,
  connection: Connection,
  token: Uint8Array,
  reject: (why: string) => Gate
) =>
  Effect.gen(function*() {
    const realm = ctx.kerberos!
    const acceptor = realm.acceptor(connection.tls !== undefined && ctx.config.channelBindings === "required")
    const now = yield* Clock.currentTimeMillis
    const accepted = guarded(() => acceptor.accept(token, { now, channelBindings: bindingsOf(connection) }))
    const { kerberosAcceptor: refuse, kerberosMutualAuth: fault } = yield* ctx.faults.get
    return yield* Effect.sync((): Gate => {
      if (refuse === "wrong-key") return reject("KRB_AP_ERR_MODIFIED")
      if (refuse === "reject") return spnegoReject(reject("SPNEGO_REJECT"))
      if (Either.isLeft(accepted)) {
        return reject(accepted.left instanceof Failure.KerberosFailure ? accepted.left.reason : "MALFORMED")
      }
      const at = accepted.right.client.lastIndexOf("@")
      const user = findUser(ctx, accepted.right.client.slice(at + 1), accepted.right.client.slice(0, at))
      if (user === undefined) return reject("unknown-user")
      connection.auth = { _tag: "Authenticated", user }
      ctx.state.counters.handshakesCompleted++
      ctx.state.recordRoundTrips(connection.handshakeRequests)
      connection.handshakeRequests = 0
      if (fault === "omit") return { _tag: "Proceed", user }
      const answer = Uint8Array.from(accepted.right.token)
      if (fault === "corrupt") answer[answer.length - 1]! ^= 0x01
      return { _tag: "Proceed", user, wwwAuthenticate: `Negotiate ${toBase64(answer)}` }
    })
  })

// NegTokenResp { negState reject }: what a server without Kerberos answers a SPNEGO AP-REQ with.
const negTokenRespReject = Uint8Array.of(0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02)

const spnegoReject = (gate: Gate): Gate =>
  gate._tag === "Respond"
    ? {
      _tag: "Respond",
      response: {
        ...gate.response,
        headers: { ...gate.response.headers, "www-authenticate": [`Negotiate ${toBase64(negTokenRespReject)}`] }
      }
    }
    : gate
