/**
 * The short way on Node: one layer gives VedAuth with the NTLM transport, an HTTPS client (same
 * extra CAs), and TokenStore.Live, all configured from VEDAUTH_* variables.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as NodeVedAuth from "@vedauth/platform-node/NodeVedAuth"
import { Console, Effect } from "effect"

const program = Effect.gen(function*() {
  const grant = yield* VedAuth.grant
  yield* Console.log(`identity ${grant.identity}, scope '${grant.scope}'`)
})

program.pipe(Effect.provide(NodeVedAuth.layerConfig()), NodeRuntime.runMain)
