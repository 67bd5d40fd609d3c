/**
 * Memory of the simulator under a flood of password grants (issue #12, item 8): a measurement, not
 * a test. Sends N `authorize/oauth` requests straight into the handler (the state a served simulator
 * keeps is the same), then reports the heap and RSS after a full GC, against the figure before.
 *
 *   pnpm sim-memory [grants=200000] [maxGrants]
 */
import { Effect } from "effect"
import * as Simulator from "@vedauth/testing/Simulator"

const grants = Number(process.argv[2] ?? 200_000)
const maxGrants = process.argv[3] === undefined ? undefined : Number(process.argv[3])
const gc = (globalThis as { gc?: () => void }).gc
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`
const measure = () => {
  gc?.()
  gc?.()
  const { heapUsed, rss } = process.memoryUsage()
  return { heapUsed, rss }
}

const body = new TextEncoder().encode(
  JSON.stringify({ client_id: "vedauth-demo", username: "CORP\\alice", password: "Passw0rd!", scope: "certificate:manage" })
)

const program = Effect.gen(function*() {
  const simulator = yield* Simulator.make(maxGrants === undefined ? {} : { maxGrants })
  const before = measure()
  for (let i = 0; i < grants; i++) {
    const connection = yield* simulator.connect()
    const response = yield* simulator.handle(connection, {
      method: "POST",
      path: "/vedauth/authorize/oauth",
      headers: { "content-type": "application/json" },
      body
    })
    if (response.status !== 200) return yield* Effect.dieMessage(`grant ${i}: status ${response.status}`)
  }
  const after = measure()
  const { liveGrants } = yield* simulator.stats
  console.log(`simulator memory: ${grants} password grants, maxGrants ${maxGrants ?? "default (20000)"}, kept ${liveGrants}`)
  console.log(`  heap used ${mib(before.heapUsed)} -> ${mib(after.heapUsed)} (+${mib(after.heapUsed - before.heapUsed)})`)
  console.log(`  rss       ${mib(before.rss)} -> ${mib(after.rss)} (+${mib(after.rss - before.rss)})`)
  if (gc === undefined) console.log("  (run under node --expose-gc for figures after a full collection)")
})

Effect.runPromise(program)
