/**
 * The simulator under a flood (issue #12, item 8): a measurement, not a test.
 *
 *   pnpm sim-memory [grants=200000] [maxGrants]
 *     sends N `authorize/oauth` requests straight into the handler (the state a served simulator
 *     keeps is the same), then reports heap and RSS after a full GC, against the figure before.
 *   pnpm sim-memory --half-sent [connections=9000]
 *     opens that many connections to a served simulator (plain HTTP, default timeouts), each
 *     sending half a request line and headers, and reports when the server had closed them all.
 */
import * as Simulator from "@vedauth/testing/Simulator"
import { Effect } from "effect"
import * as Net from "node:net"

const halfSent = process.argv[2] === "--half-sent"
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
  JSON.stringify({
    client_id: "vedauth-demo",
    username: "CORP\\alice",
    password: "Passw0rd!",
    scope: "certificate:manage"
  })
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
  console.log(
    `simulator memory: ${grants} password grants, maxGrants ${maxGrants ?? "default (20000)"}, kept ${liveGrants}`
  )
  console.log(
    `  heap used ${mib(before.heapUsed)} -> ${mib(after.heapUsed)} (+${mib(after.heapUsed - before.heapUsed)})`
  )
  console.log(`  rss       ${mib(before.rss)} -> ${mib(after.rss)} (+${mib(after.rss - before.rss)})`)
  if (gc === undefined) console.log("  (run under node --expose-gc for figures after a full collection)")
})

const halfSentFlood = (count: number) =>
  Effect.gen(function*() {
    const served = yield* Simulator.serve({ protocol: "http" })
    const started = Date.now()
    const closedAt = yield* Effect.promise(() =>
      Promise.all(Array.from({ length: count }, () =>
        new Promise<number>((resolve) => {
          const socket = Net.connect(
            served.port,
            "127.0.0.1",
            () => socket.write("POST /vedauth/authorize/oauth HTTP/1.1\r\nHost: x\r\nContent-")
          )
          socket.on("error", () => undefined)
          // Read (and drop) the server's answer: a paused socket would never see the server close it.
          socket.resume()
          socket.on("close", () => resolve(Date.now()))
        })))
    )
    const seconds = (Math.max(...closedAt) - started) / 1000
    console.log(
      `simulator under ${count} half-sent requests (headersTimeout 10 s): all closed by the server after ${
        seconds.toFixed(1)
      } s`
    )
    console.log(`  rss ${mib(process.memoryUsage().rss)} after they closed`)
  }).pipe(Effect.scoped)

Effect.runPromise(halfSent ? halfSentFlood(Number(process.argv[3] ?? 9000)) : program)
