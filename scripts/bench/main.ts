/**
 * vedauth against its peers, on one simulator on loopback, in one run. Run through `pnpm bench`
 * (scripts/bench.mjs bundles this file and its two child
 * entries: `server.ts`, the simulator in a process of its own, and `worker.ts`, one of the processes
 * sharing a token store file). The clients are in `clients.ts`, the measurements in `measure.ts`.
 *
 * Round trips and sockets are counted by the SERVER (the simulator's request and connection
 * counters), so every client is measured the same way. Timed figures are interleaved: each round
 * runs every client once, in a rotating order, so machine noise falls on all of them alike.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { type Authorize, axiosNtlmClient, curlClient, httpntlmClient, vedauthClient } from "./clients.js"
import { root, round } from "./common.js"
import {
  type ClientFigures,
  measureAccessToken,
  measureClients,
  measureCliStartup,
  measureConcurrentCallers,
  measureLoad,
  measureProcesses,
  runCommand,
  startServer
} from "./measure.js"

const args = new Set(process.argv.slice(2))
const quick = args.has("--quick")

// effect is a dependency of the packages, not of the root: look in core's node_modules too.
const versionOf = (name: string): string => {
  for (const base of [root, Path.join(root, "packages", "core")]) {
    try {
      return JSON.parse(Fs.readFileSync(Path.join(base, "node_modules", name, "package.json"), "utf8")).version
    } catch {
      // try the next place
    }
  }
  return "unknown"
}

const curlVersion = () =>
  runCommand("curl", ["--version"], process.env).then((r) => r.stdout.split("\n")[0] ?? "unknown")

const main = async () => {
  const server = await startServer()
  try {
    const sizes = quick
      ? {
        rounds: 3,
        warmup: 3,
        iterations: 20_000,
        repeats: 3,
        callers: 1000,
        processes: 8,
        load: 300,
        loadConnections: 10,
        cliRuns: 3
      }
      : {
        rounds: 30,
        warmup: 50,
        iterations: 200_000,
        repeats: 7,
        callers: 1000,
        processes: 8,
        load: 5000,
        loadConnections: 50,
        cliRuns: 15
      }
    const ved = vedauthClient(server.url)
    const clients: Record<string, Authorize> = {
      vedauth: ved.authorize,
      "curl --ntlm": curlClient(server.url),
      "axios-ntlm": axiosNtlmClient(server.url),
      httpntlm: httpntlmClient(server.url)
    }
    // Unmeasured calls first, interleaved: module loading and JIT warm-up are not what is compared
    // (a single call leaves the larger client interpreted for most of the measured rounds).
    for (let i = 0; i < sizes.warmup; i++) {
      for (const name of Object.keys(clients)) await clients[name]!().catch(() => undefined)
    }
    const perClient = await measureClients(server, clients, sizes.rounds)
    await ved.runtime.dispose()
    const ratio = (peer: string, field: "wallMsMedian" | "cpuMsMedian") => {
      const mine = perClient["vedauth"]?.[field]
      const theirs = perClient[peer]?.[field]
      return mine === undefined || theirs === undefined ? null : round(theirs / mine, 2)
    }
    const result = {
      machine: {
        cpus: `${Os.cpus().length} x ${Os.cpus()[0]?.model ?? "?"}`,
        memoryGiB: round(Os.totalmem() / 2 ** 30, 1),
        os: `${Os.type()} ${Os.release()}`,
        node: process.version
      },
      versions: {
        curl: await curlVersion(),
        "axios-ntlm": versionOf("axios-ntlm"),
        httpntlm: versionOf("httpntlm"),
        autocannon: versionOf("autocannon"),
        effect: versionOf("effect")
      },
      quick,
      sizes,
      authorize: perClient,
      peerOverVedauth: {
        wall: {
          "axios-ntlm": ratio("axios-ntlm", "wallMsMedian"),
          httpntlm: ratio("httpntlm", "wallMsMedian"),
          "curl --ntlm": ratio("curl --ntlm", "wallMsMedian")
        },
        cpu: { "axios-ntlm": ratio("axios-ntlm", "cpuMsMedian"), httpntlm: ratio("httpntlm", "cpuMsMedian") }
      },
      accessToken: await measureAccessToken(server.url, sizes.iterations, sizes.repeats),
      refreshesUnder1000Callers: await measureConcurrentCallers(server, sizes.callers),
      refreshesUnder8Processes: await measureProcesses(server, sizes.processes),
      load: await measureLoad(server, sizes.load, sizes.loadConnections),
      cliStartup: await measureCliStartup(server, sizes.cliRuns)
    }
    if (args.has("--json")) {
      process.stdout.write(`${JSON.stringify(result)}\n`)
    } else {
      printTable(result)
    }
  } finally {
    await server.close()
  }
}

const printTable = (result: any) => {
  const lines: Array<string> = []
  lines.push(`vedauth bench${result.quick ? " (--quick)" : ""}: ${result.machine.cpus}, ${result.machine.node}`)
  lines.push("")
  lines.push("client        round trips  sockets  wall ms (median)  cpu ms (median)")
  for (const [name, f] of Object.entries<ClientFigures>(result.authorize)) {
    lines.push(
      f.fails !== undefined
        ? `${name.padEnd(14)}fails: ${f.fails}`
        : `${name.padEnd(14)}${String(f.authorizeRoundTrips).padEnd(13)}${String(f.authorizeSockets).padEnd(9)}${
          String(f.wallMsMedian).padEnd(18)
        }${f.cpuMsMedian ?? "n/a (child process)"}`
    )
  }
  lines.push(
    `peer / vedauth: wall ${JSON.stringify(result.peerOverVedauth.wall)}, cpu ${
      JSON.stringify(result.peerOverVedauth.cpu)
    }`
  )
  lines.push(
    `accessToken (fresh, cached): ${result.accessToken.accessTokenNsPerCall} ns/call; Ref.get: ${result.accessToken.refGetNsPerCall} ns/call; ratio ${result.accessToken.accessTokenOverRefGet}`
  )
  lines.push(
    `refreshesUnder1000Callers: ${result.refreshesUnder1000Callers.refreshes} (authorizes ${result.refreshesUnder1000Callers.authorizes}, distinct tokens ${result.refreshesUnder1000Callers.distinctTokens})`
  )
  lines.push(
    `refreshesUnder8Processes: ${result.refreshesUnder8Processes.refreshes} (authorizes ${result.refreshesUnder8Processes.authorizes}, failures ${result.refreshesUnder8Processes.failures.length})`
  )
  const l = result.load
  lines.push(
    `load (autocannon, ${l.connections} connections, ${l.requests} password grants): ${l.requestsPerSecond} req/s, p50 ${l.latencyMsP50} ms, p99 ${l.latencyMsP99} ms, 2xx ${l.ok2xx}, non-2xx ${l.non2xx}, 5xx ${l.status5xx}, errors ${l.errors}, lost grants ${l.lostGrants}`
  )
  const c = result.cliStartup
  lines.push(
    c.ratio !== undefined
      ? `vedauth token (cached): ${c.vedauthTokenCachedMs} ms; node -e 0: ${c.nodeEmptyMs} ms; ratio ${c.ratio}; server requests while cached ${c.serverRequestsWhileCached}`
      : `vedauth token start-up: ${c.fails ?? c.skipped}`
  )
  process.stdout.write(`${lines.join("\n")}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
  process.exitCode = 1
})
