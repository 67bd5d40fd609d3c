/**
 * The conformance suite on Node, in `pnpm test`: the same cases `deno test` and Bun run, on
 * `NodeVedAuth.layer`. Each case provides its own TestClock (set to the wall clock, for TLS).
 */
import { it } from "@effect/vitest"
import { NodeVedAuth } from "@vedauth/platform-node"
import { caseEffect, cases } from "../conformance/cases.js"
import type { Platform } from "../conformance/Platform.js"

const platform: Platform = {
  runtime: "node",
  layer: ({ ca, onHandshake, proxy, tokenStorePath, ...options }) =>
    NodeVedAuth.layer({
      ...options,
      tokenStorePath,
      transport: { onHandshake, ...(ca === undefined ? {} : { ca }), ...(proxy === undefined ? {} : { proxy }) }
    })
}

for (const testCase of cases) {
  it.live(testCase.name, () => caseEffect(platform, testCase))
}
