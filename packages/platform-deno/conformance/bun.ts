/**
 * The conformance suite under Bun (`pnpm test:bun`), on `NodeVedAuth.layer`: Bun runs Node's
 * `node:http(s)`, `node:tls` and `node:fs` APIs, and there is no Bun platform package in Effect 3.
 * A plain script rather than `bun test`, whose discovery would also pick up the vitest files.
 */
import { NodeVedAuth } from "@vedauth/platform-node"
import { cases } from "./cases.js"
import type { Platform } from "./Platform.js"
import { runAll } from "./runAll.js"

const bunVersion = (globalThis as { readonly Bun?: { readonly version: string } }).Bun?.version

const platform: Platform = {
  runtime: bunVersion === undefined ? "not bun" : `bun ${bunVersion}`,
  layer: ({ ca, onHandshake, proxy, tokenStorePath, ...options }) =>
    NodeVedAuth.layer({
      ...options,
      tokenStorePath,
      transport: { onHandshake, ...(ca === undefined ? {} : { ca }), ...(proxy === undefined ? {} : { proxy }) }
    })
}

if (bunVersion === undefined) {
  console.log("this runner is for Bun: bun run packages/platform-deno/conformance/bun.ts")
  process.exitCode = 2
} else {
  const { failed } = await runAll(platform, cases)
  process.exitCode = failed === 0 ? 0 : 1
}
