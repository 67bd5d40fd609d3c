#!/usr/bin/env node
/**
 * The `vedauth` executable. `vedauth token` with a good stored token is answered from the store by
 * a lean path that loads no framework (scripts call it once per request); everything else, and
 * every case the lean path is unsure of, goes to the full command line, loaded on demand.
 *
 * @since 0.1.0
 */
import * as Module from "node:module"
import { cachedTokenOutput } from "./internal/cachedToken.js" // Node 22.1+ caches compiled code between runs; Node 20 has no such cache.
;(Module as { readonly enableCompileCache?: () => unknown }).enableCompileCache?.()

const args = process.argv.slice(2)
const cached = args[0] === "token" ? cachedTokenOutput(args, process.env, Date.now()) : undefined
if (cached === undefined) {
  void import("./internal/commandLine.js").then((commandLine) => commandLine.main(args))
} else {
  // A reader that went away (`vedauth token | head -c0`) is no failure of ours: end as SIGPIPE would.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => process.exit(error.code === "EPIPE" ? 141 : 1))
  process.stdout.write(cached)
}
