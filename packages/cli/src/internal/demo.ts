import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type { Grant } from "@vedauth/core/Grant"
import * as TokenStore from "@vedauth/core/TokenStore"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as NodeNtlmTransport from "@vedauth/platform-node/NodeNtlmTransport"
import * as NodeVedAuth from "@vedauth/platform-node/NodeVedAuth"
import { Simulator } from "@vedauth/testing"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { createHash } from "node:crypto"
import type { Run } from "./commands.js"
import { safeText } from "./terminalText.js"

// A token is a secret: the demo shows a short SHA-256 fingerprint, enough to see rotation, useless to an attacker.
const fingerprint = (token: Redacted.Redacted<string>) =>
  `sha256:${createHash("sha256").update(Redacted.value(token)).digest("hex").slice(0, 12)} (${
    Redacted.value(token).length
  } chars, masked)`

const tokens = (grant: Grant) => [
  `access token  ${fingerprint(grant.accessToken)}`,
  `refresh token ${Option.match(grant.refreshToken, { onNone: () => "none", onSome: fingerprint })}`
]

// What the server said is shown with control characters escaped, as everywhere else.
const indent = (lines: ReadonlyArray<string>, mark: string) =>
  lines.map((line) => `    ${mark} ${safeText(line)}`).join("\n")

let stepNumber = 0
// Runs one step of the story: its title, what went out, what came back, and how long it took.
const step = <A, E, R>(
  title: string,
  sent: ReadonlyArray<string>,
  effect: Effect.Effect<A, E, R>,
  received: (a: A) => ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    stepNumber += 1
    yield* Console.log(`\n${stepNumber}. ${title}\n${indent(sent, "->")}`)
    const started = yield* Clock.currentTimeMillis
    const result = yield* effect
    const took = (yield* Clock.currentTimeMillis) - started
    yield* Console.log(`${indent(received(result), "<-")}\n    (${took} ms)`)
    return result
  })

// The steps that are meant to fail show the typed error instead of ending the demo.
const expectFailure = <A, E extends { readonly _tag: string; readonly message: string }, R>(
  effect: Effect.Effect<A, E, R>
) =>
  Effect.match(effect, {
    onFailure: (error) => [`failed as expected with ${error._tag}`, error.message],
    onSuccess: () => ["unexpectedly succeeded"]
  })

// Asks for less than the integration allows, so that a call needing certificate:revoke is refused.
const demoScope = "certificate:manage;configuration:manage"

/**
 * `vedauth demo`. Its grants live in a token store in memory, so nothing is left behind however the
 * demo ends (Ctrl-C, a closed pipe, a kill).
 * @internal
 */
export const demo: Run = () =>
  Effect.gen(function*() {
    const served = yield* Simulator.serve({ protocol: "https" })
    const handshakes: Array<{ readonly roundTrips: number; readonly sockets: number }> = []
    yield* Console.log(
      `vedauth demo: a TPP simulator is listening on ${served.url} (HTTPS, its throwaway CA trusted for this run,\n` +
        `Windows authentication with channel bindings required). Secrets are shown only as fingerprints.`
    )
    const ca = served.caPem ?? ""
    // The embedded simulator is on loopback, in this process: never through a proxy the environment names.
    const tls = yield* NodeNtlmTransport.tlsOptions({ ca, proxy: false as const })
    const vedAuth = VedAuth.layer({
      url: served.url,
      clientId: Simulator.defaultClientId,
      scope: demoScope,
      username: "CORP\\alice",
      password: Simulator.defaultCredentials.password
    }).pipe(Layer.provide(Layer.mergeAll(
      NodeNtlmTransport.layer({ ca, proxy: false, onHandshake: (stats) => handshakes.push(stats) }),
      NodeVedAuth.layerHttpClient(tls),
      TokenStore.layerMemory
    )))
    const httpClient = NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ ca })))

    yield* Effect.gen(function*() {
      yield* step("Is this a VEDauth server?", ["GET /vedauth/authorize/isAuthServer"], VedAuth.isAuthServer, (yes) => [
        yes ? "yes: 'Venafi Authentication Server'" : "no"
      ])

      const first = yield* step(
        "Authorize with Integrated Windows Authentication (NTLMv2, MIC, channel bindings)",
        [
          "POST /vedauth/authorize/integrated  Authorization: NTLM <NEGOTIATE>  (Content-Length: 0)",
          "POST /vedauth/authorize/integrated  Authorization: NTLM <AUTHENTICATE for CORP\\alice>",
          `     {"client_id":"${Simulator.defaultClientId}","scope":"${demoScope}"}`
        ],
        VedAuth.login,
        (grant) => {
          const last = handshakes.at(-1)
          return [
            ...(last === undefined
              ? []
              : [`handshake: ${last.roundTrips} round trips on ${last.sockets} connection(s)`]),
            `200 grant for ${grant.identity}, scope '${grant.scope}'`,
            `expires ${DateTime.formatIso(grant.expiresAt)}, grant ends ${
              Option.match(grant.refreshUntil, { onNone: () => "never", onSome: DateTime.formatIso })
            }`,
            ...tokens(grant),
            "stored in the token store (in memory for the demo; `vedauth login` keeps it in a 0600 file)"
          ]
        }
      )

      const client = yield* VedAuth.httpClient
      yield* step(
        "Call a protected resource with the managed token",
        ["GET /vedsdk/certificates  Authorization: Bearer <access token>"],
        Effect.flatMap(
          client.execute(HttpClientRequest.get(`${served.url}/vedsdk/certificates`)),
          (response) => Effect.map(response.text, (body) => ({ status: response.status, body }))
        ).pipe(Effect.scoped),
        ({ body, status }) => [`${status} ${body}`]
      )

      yield* step(
        "Verify the token",
        ["GET /vedauth/authorize/verify  Authorization: Bearer <access token>"],
        Effect.flatMap(VedAuth.stored, (grant) => VedAuth.verify(Option.getOrElse(grant, () => first).accessToken)),
        (info) => [
          `200 Token is valid: application ${info.application}, identity ${info.identity}`,
          `scope '${info.scope}', valid for ${Math.round(Duration.toSeconds(info.validFor))} s`
        ]
      )

      const second = yield* step(
        "Refresh: the server rotates both tokens",
        ["POST /vedauth/authorize/token  {\"client_id\":\"...\",\"refresh_token\":\"<masked>\"}"],
        VedAuth.refresh(first),
        (grant) => [...tokens(grant), "the new pair was stored before it was handed out"]
      )

      yield* step(
        "Reuse the old refresh token (what a racing process would do)",
        ["POST /vedauth/authorize/token  {\"refresh_token\":\"<the spent one>\"}"],
        expectFailure(VedAuth.refresh(first)),
        (lines) => lines
      )

      yield* step(
        "Call a resource that needs a privilege the grant lacks",
        ["POST /vedsdk/certificates/revoke  Authorization: Bearer <access token>"],
        expectFailure(
          client.execute(
            HttpClientRequest.post(`${served.url}/vedsdk/certificates/revoke`).pipe(
              HttpClientRequest.bodyUnsafeJson({})
            )
          ).pipe(
            Effect.scoped
          )
        ),
        (lines) => lines
      )

      yield* step(
        "Revoke the grant (what a client does on exit)",
        ["GET /vedauth/revoke/token  Authorization: Bearer <access token>"],
        VedAuth.revoke(second),
        (result) => [`${result._tag === "Revoked" ? "200" : "202"} ${result.reason}`, "removed from the token store"]
      )

      yield* step(
        "Verify the revoked token",
        ["GET /vedauth/authorize/verify  Authorization: Bearer <revoked token>"],
        expectFailure(VedAuth.verify(second.accessToken)),
        (lines) => lines
      )

      const stats = yield* served.simulator.stats
      yield* Console.log(
        `\nDone. The simulator saw ${stats.requests} requests on ${stats.connections} connections, ` +
          `${stats.handshakesCompleted} Windows handshake(s), ${stats.refresh} refresh(es), ${stats.revoke} revoke(s).`
      )
    }).pipe(Effect.provide(Layer.merge(vedAuth, httpClient)))
  }).pipe(Effect.scoped)
