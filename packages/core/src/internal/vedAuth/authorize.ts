import { DateTime, Effect, Option } from "effect"
import * as Grant from "../../Grant.js"
import { parseUser } from "../../NtlmTransport.js"
import type * as NtlmTransport from "../../NtlmTransport.js"
import * as Scope from "../../Scope.js"
import type { AuthorizeError, AuthorizeRequest, Options } from "../../VedAuth.js"
import * as VedAuthError from "../../VedAuthError.js"
import * as errors from "../errors.js"
import type * as http from "../http.js"
import type { Password } from "./password.js"
import { decodeGrant, jsonHeaders, type Requests } from "./request.js"
import type { Server } from "./server.js"

/** What authorize needs from the layer. @internal */
export interface AuthorizeContext {
  readonly options: Options
  readonly transport: NtlmTransport.Service
  readonly server: Server
  readonly withTimeout: Requests["withTimeout"]
  readonly password: Password
}

// authorize documents only grant refusals; anything else it might map to is, for it, unexpected.
const asAuthorizeError = (error: VedAuthError.VedAuthError): AuthorizeError => {
  switch (error._tag) {
    case "InvalidToken":
    case "InsufficientScope":
    case "TokenStoreError":
      return new VedAuthError.UnexpectedResponse({
        ...("status" in error && error.status !== undefined ? { status: error.status } : {}),
        ...("reason" in error && error.reason !== undefined ? { reason: error.reason } : {}),
        detail: `authorize answered with what would be ${error._tag} elsewhere`
      })
    default:
      return error
  }
}

const warnOnNarrowerScope = (requested: string, granted: Grant.Grant) => {
  const wanted = Scope.parse(requested)
  const got = Scope.parse(granted.scope)
  return wanted._tag === "Right" && got._tag === "Right" && !Scope.isSubset(wanted.right, got.right)
    ? Effect.logWarning(`vedauth: asked for scope '${Scope.print(wanted.right)}', granted '${Scope.print(got.right)}'`)
    : Effect.void
}

/**
 * POST authorize/integrated through the NTLM transport, with the Windows credentials.
 *
 * @internal
 */
export const makeAuthorize = ({ options, password, server, transport, withTimeout }: AuthorizeContext) =>
  Effect.fn("VedAuth.authorize")(function*(request?: AuthorizeRequest) {
    const noCredentials = new VedAuthError.AuthenticationFailed({
      description: "no Windows credentials configured (username and password, e.g. VEDAUTH_USERNAME and VEDAUTH_PASSWORD)"
    })
    if (options.username === undefined || options.username === "" || options.password === undefined) return yield* noCredentials
    const resolved = yield* password.resolve
    if (Option.isNone(resolved)) return yield* noCredentials
    const windowsPassword = resolved.value
    const { domain, username } = parseUser(options.username)
    const scope = request?.scope ?? options.scope
    const body = {
      client_id: request?.clientId ?? options.clientId,
      scope,
      ...(request?.state === undefined ? {} : { state: request.state })
    }
    const url = server.endpointUrl("authorize/integrated")
    const response = yield* transport.request({
      method: "POST",
      url,
      headers: jsonHeaders,
      body: new TextEncoder().encode(JSON.stringify(body)),
      credentials: { domain, username, password: windowsPassword }
    }).pipe(withTimeout(url))
    const answer: http.Answer = { status: response.status, reason: response.reason, body: new TextDecoder().decode(response.body) }
    const secrets = [windowsPassword]
    if (answer.status !== 200) {
      return yield* Effect.fail(asAuthorizeError(errors.fromFailure({ endpoint: "authorize", ...answer, secrets })))
    }
    const wire = yield* decodeGrant("authorize", answer, secrets)
    if (request?.state !== undefined && wire.state != null && wire.state !== request.state) {
      return yield* new VedAuthError.UnexpectedResponse({
        status: answer.status,
        detail: "the server echoed a different state than was sent: the grant is refused (possible CSRF or mixed-up response)"
      })
    }
    const grant = Grant.fromResponse(wire, yield* DateTime.now)
    yield* warnOnNarrowerScope(scope, grant)
    return grant
  })
