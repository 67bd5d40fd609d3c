/**
 * The one handler behind both ways of running the simulator: routing (paths case-insensitive, as
 * IIS), the body cap, fault injection, counters.
 */
import { Effect } from "effect"
import { authorizeCertificate } from "./certificateGrant.js"
import type { Connection, HandlerContext } from "./context.js"
import { authorizeDevice, deviceGrantType, parseForm, pollDevice } from "./device.js"
import type { SimRequest, SimResponse } from "./http.js"
import { json, oauthError, reasonPhrases, text } from "./http.js"
import { authorizeJwt } from "./jwt.js"
import * as VedAuth from "./vedauth.js"
import { gate } from "./windowsAuth.js"

// The AP-REP of a Kerberos authentication rides on whatever the application answered.
const withMutualAuth = (response: SimResponse, wwwAuthenticate: string | undefined): SimResponse =>
  wwwAuthenticate === undefined
    ? response
    : { ...response, headers: { ...response.headers, "www-authenticate": wwwAuthenticate } }

type Route = (ctx: HandlerContext, connection: Connection, request: SimRequest) => Effect.Effect<SimResponse>

const routes: ReadonlyArray<{ readonly method: string; readonly path: string; readonly run: Route }> = [
  {
    method: "POST",
    path: "/vedauth/authorize/integrated",
    run: (ctx, connection, request) =>
      Effect.flatMap(gate(ctx, connection, request), (decision) =>
        decision._tag === "Respond"
          ? Effect.succeed(decision.response)
          : Effect.zipRight(
            count(ctx, "authorizeIntegrated"),
            VedAuth.authorize(ctx, request, { _tag: "integrated", user: decision.user })
          ).pipe(
            Effect.map((response) => withMutualAuth(response, decision.wwwAuthenticate))
          ))
  },
  {
    method: "POST",
    path: "/vedauth/authorize/oauth",
    run: (ctx, _, request) =>
      Effect.zipRight(count(ctx, "authorizeOauth"), VedAuth.authorize(ctx, request, { _tag: "oauth" }))
  },
  {
    method: "POST",
    path: "/vedauth/authorize/token",
    run: (ctx, _, request) => {
      // A form-encoded body with the device grant type is a device poll; anything else a refresh.
      const form = request.headers["content-type"]?.includes("application/x-www-form-urlencoded") === true
        ? parseForm(request.body)
        : undefined
      return form?.get("grant_type") === deviceGrantType
        ? Effect.zipRight(count(ctx, "devicePoll"), pollDevice(ctx, form))
        : Effect.zipRight(count(ctx, "refresh"), VedAuth.refresh(ctx, request)).pipe(Effect.tap(holdRefreshAnswer(ctx)))
    }
  },
  {
    method: "GET",
    path: "/vedauth/authorize/verify",
    run: (ctx, _, request) => Effect.zipRight(count(ctx, "verify"), VedAuth.verify(ctx, request))
  },
  {
    method: "GET",
    path: "/vedauth/revoke/token",
    run: (ctx, _, request) => Effect.zipRight(count(ctx, "revoke"), VedAuth.revoke(ctx, request))
  },
  {
    method: "GET",
    path: "/vedauth/authorize/isauthserver",
    run: () => Effect.succeed(text(200, "Venafi Authentication Server", "Venafi Authentication Server"))
  },
  {
    method: "POST",
    path: "/vedauth/authorize/certificate",
    run: (ctx, connection, request) =>
      Effect.zipRight(count(ctx, "authorizeCertificate"), authorizeCertificate(ctx, connection, request))
  },
  {
    method: "POST",
    path: "/vedauth/authorize/jwt",
    run: (ctx, _, request) => Effect.zipRight(count(ctx, "authorizeJwt"), authorizeJwt(ctx, request))
  },
  {
    method: "POST",
    path: "/vedauth/authorize/device",
    run: (ctx, _, request) => Effect.zipRight(count(ctx, "authorizeDevice"), authorizeDevice(ctx, request))
  },
  {
    method: "GET",
    path: "/vedsdk/certificates",
    run: (ctx, _, request) =>
      Effect.zipRight(
        count(ctx, "resources"),
        VedAuth.resource(ctx, request, undefined, { Certificates: [], TotalCount: 0 })
      )
  },
  {
    method: "POST",
    path: "/vedsdk/certificates/revoke",
    run: (ctx, _, request) =>
      Effect.zipRight(count(ctx, "resources"), VedAuth.resource(ctx, request, "certificate:revoke", { Success: true }))
  },
  {
    method: "POST",
    path: "/vedsdk/certificates/request",
    run: (ctx, _, request) =>
      Effect.zipRight(
        count(ctx, "resources"),
        VedAuth.resource(ctx, request, "certificate:manage", { CertificateDN: "\\VED\\Policy\\Certificates\\demo" })
      )
  }
]

const count = (
  ctx: HandlerContext,
  name:
    | "authorizeIntegrated"
    | "authorizeOauth"
    | "authorizeCertificate"
    | "authorizeJwt"
    | "authorizeDevice"
    | "devicePoll"
    | "refresh"
    | "verify"
    | "revoke"
    | "resources"
) =>
  Effect.sync(() => {
    ctx.state.counters[name]++
  })

// The refresh has rotated the pair (the old refresh token is spent); its answer is slow to leave.
const holdRefreshAnswer = (ctx: HandlerContext) => () =>
  Effect.flatMap(
    ctx.faults.get,
    (faults) => (faults.holdRefreshAnswer === undefined ? Effect.void : Effect.sleep(faults.holdRefreshAnswer))
  )

/** IIS normalises the path: case, trailing slashes and the query string do not pick a different handler. @internal */
export const routeKey = (path: string): string => {
  const bare = path.split(/[?#]/, 1)[0] ?? ""
  return (bare.replace(/\/+$/, "") || "/").toLowerCase()
}

/** @internal */
export const handle = (ctx: HandlerContext, connection: Connection, request: SimRequest): Effect.Effect<SimResponse> =>
  Effect.gen(function*() {
    yield* Effect.sync(() => {
      ctx.state.counters.requests++
    })
    const faults = yield* ctx.faults.get
    if (faults.delay !== undefined) yield* Effect.sleep(faults.delay)
    const key = routeKey(request.path)
    const known = key.startsWith("/vedauth/") || key.startsWith("/vedsdk/")
    if (faults.serverError !== undefined && known) {
      ctx.state.counters.injectedFaults++
      const status = faults.serverError
      return text(
        status,
        reasonPhrases[status] ?? "Server Error",
        "<html><body>The service is unavailable.</body></html>"
      )
    }
    if (request.body.length > ctx.config.maxBodyBytes) {
      return text(413, reasonPhrases[413]!, "Request body too large", { connection: "close" })
    }
    const candidates = routes.filter((route) => route.path === key)
    const route = candidates.find((candidate) => candidate.method === request.method.toUpperCase())
    if (route === undefined) {
      return candidates.length > 0
        ? json(405, reasonPhrases[405]!, {
          error: "invalid_request",
          error_description: "The HTTP method is not allowed here"
        })
        : text(404, reasonPhrases[404]!, "Not Found")
    }
    return yield* route.run(ctx, connection, request)
  }).pipe(
    Effect.tap((response) =>
      Effect.sync(() => {
        if (response.status >= 400 && response.status < 500) ctx.state.counters.rejected4xx++
      })
    ),
    // A bug in the simulator must still answer: a documented 400, never a dropped request.
    Effect.catchAllDefect(() =>
      Effect.succeed(oauthError("invalid_request", "The server could not process the request"))
    )
  )
