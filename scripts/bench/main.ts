/**
 * vedauth against its peers, on one simulator on loopback, in one run. Run through `pnpm bench`
 * (scripts/bench.mjs bundles this file). Modes: (none) the benchmark; `server` the simulator in a
 * child process (so that the client's CPU time is the client's alone); `worker` one of the processes
 * sharing a token store file.
 *
 * Round trips and sockets are counted by the SERVER (the simulator's request and connection
 * counters), so every client is measured the same way. Timed figures are interleaved: each round
 * runs every client once, in a rotating order, so machine noise falls on all of them alike.
 */
import { NodeHttpClient, NodePath } from "@effect/platform-node"
import { Grant, TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeNtlmTransport, NodeTokenStoreFiles } from "@vedauth/platform-node"
import * as Simulator from "@vedauth/testing/Simulator"
import { DateTime, Effect, Layer, ManagedRuntime, Option, Redacted, Ref } from "effect"
import { execFile, fork, type ChildProcess } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

declare const require: (name: string) => any

const args = new Set(process.argv.slice(2))
const quick = args.has("--quick")
const mode = process.argv[2] === "server" || process.argv[2] === "worker" ? process.argv[2] : "bench"
const bundle = process.env["VEDAUTH_BENCH_BUNDLE"] ?? process.argv[1]!
const root = process.env["VEDAUTH_BENCH_ROOT"] ?? process.cwd()

const DOMAIN = "CORP"
const USER = "alice"
const PASSWORD = "Passw0rd!"
const CLIENT_ID = Simulator.defaultClientId
const SCOPE = "certificate:manage"
const body = JSON.stringify({ client_id: CLIENT_ID, scope: SCOPE })

// ---------------------------------------------------------------- the simulator, in its own process

type Stats = Simulator.Stats

const runServer = async () => {
  const served = await Simulator.start({ protocol: "http", host: "127.0.0.1" })
  process.on("message", (message: { readonly id: number; readonly op: "stats" | "close" }) => {
    if (message.op === "close") {
      void served.close().then(() => process.exit(0))
      return
    }
    void Effect.runPromise(served.simulator.stats).then((stats) => process.send!({ id: message.id, stats }))
  })
  process.send!({ id: 0, url: served.url })
}

interface ServerHandle {
  readonly url: string
  readonly stats: () => Promise<Stats>
  readonly close: () => Promise<void>
}

const startServer = () =>
  new Promise<ServerHandle>((resolve, reject) => {
    const child: ChildProcess = fork(bundle, ["server"], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    let next = 1
    const waiting = new Map<number, (stats: Stats) => void>()
    child.on("message", (message: { id: number; url?: string; stats?: Stats }) => {
      if (message.url !== undefined) {
        resolve({
          url: message.url,
          stats: () =>
            new Promise((done) => {
              const id = next++
              waiting.set(id, done)
              child.send({ id, op: "stats" })
            }),
          close: () =>
            new Promise((done) => {
              child.once("exit", () => done())
              child.send({ id: 0, op: "close" })
            })
        })
      } else if (message.stats !== undefined) {
        waiting.get(message.id)?.(message.stats)
        waiting.delete(message.id)
      }
    })
    child.once("error", reject)
  })

// ---------------------------------------------------------------- the clients

type Authorize = () => Promise<void>

const vedauthClient = (url: string) => {
  const layer = VedAuth.layer({ url, clientId: CLIENT_ID, scope: SCOPE, username: `${DOMAIN}\\${USER}`, password: Redacted.make(PASSWORD) }).pipe(
    Layer.provide(Layer.mergeAll(NodeHttpClient.layer, NodeNtlmTransport.layer(), TokenStore.layerMemory))
  )
  const runtime = ManagedRuntime.make(layer)
  const authorize: Authorize = () => runtime.runPromise(Effect.asVoid(VedAuth.authorize()))
  return { runtime, authorize }
}

const curlClient = (url: string): Authorize => () =>
  new Promise((resolve, reject) => {
    execFile(
      "curl",
      ["--ntlm", "-u", `${DOMAIN}\\${USER}:${PASSWORD}`, "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "content-type: application/json", "--data", body, `${url}/vedauth/authorize/integrated`],
      { timeout: 20_000 },
      (error, stdout) => (error !== null ? reject(error) : stdout.trim() === "200" ? resolve() : reject(new Error(`HTTP ${stdout.trim()}`)))
    )
  })

const axiosNtlmClient = (url: string): Authorize => {
  const { NtlmClient } = require("axios-ntlm")
  return async () => {
    // A client per call, as vedauth's transport opens a connection per handshake.
    const client = NtlmClient({ username: USER, password: PASSWORD, domain: DOMAIN, workstation: "BENCH" })
    // axios-ntlm does its handshake in an error interceptor: statuses must stay errors for it to run.
    const response = await client.post(`${url}/vedauth/authorize/integrated`, body, { headers: { "content-type": "application/json" } })
      .catch((error: { response?: { status: number } }) => {
        throw new Error(error.response === undefined ? String(error) : `HTTP ${error.response.status}`)
      })
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`)
  }
}

const httpntlmClient = (url: string): Authorize => {
  const httpntlm = require("httpntlm")
  return () =>
    new Promise((resolve, reject) => {
      httpntlm.post(
        { url: `${url}/vedauth/authorize/integrated`, username: USER, password: PASSWORD, domain: DOMAIN, workstation: "BENCH", body, headers: { "content-type": "application/json" } },
        (error: unknown, response: { statusCode: number }) =>
          error ? reject(error) : response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))
      )
    })
}

const failureText = (error: unknown): string => {
  const text = error instanceof Error ? error.message : String(error)
  return text.split("\n")[0]!.slice(0, 160)
}

// ---------------------------------------------------------------- helpers

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const round = (value: number, digits = 2): number => Number(value.toFixed(digits))

const hr = () => process.hrtime.bigint()

// ---------------------------------------------------------------- the figures

interface ClientFigures {
  authorizeRoundTrips?: number
  authorizeSockets?: number
  wallMsMedian?: number
  cpuMsMedian?: number
  fails?: string
}

const measureClients = async (server: ServerHandle, clients: Record<string, Authorize>, rounds: number) => {
  const figures: Record<string, ClientFigures> = {}
  const samples: Record<string, { trips: Array<number>; sockets: Array<number>; wall: Array<number>; cpu: Array<number> }> = {}
  const names = Object.keys(clients)
  for (const name of names) {
    figures[name] = {}
    samples[name] = { trips: [], sockets: [], wall: [], cpu: [] }
  }
  for (let r = 0; r < rounds; r++) {
    // Rotate the order so that no client always goes first (or last) in a round.
    const order = names.map((_, i) => names[(i + r) % names.length]!)
    for (const name of order) {
      if (figures[name]!.fails !== undefined) continue
      const before = await server.stats()
      const cpu0 = process.cpuUsage()
      const t0 = hr()
      try {
        await clients[name]!()
      } catch (error) {
        figures[name]!.fails = failureText(error)
        continue
      }
      const wall = Number(hr() - t0) / 1e6
      const cpu = process.cpuUsage(cpu0)
      const after = await server.stats()
      const s = samples[name]!
      s.trips.push(after.requests - before.requests)
      s.sockets.push(after.connections - before.connections)
      s.wall.push(wall)
      s.cpu.push((cpu.user + cpu.system) / 1000)
    }
  }
  for (const name of names) {
    const s = samples[name]!
    if (figures[name]!.fails !== undefined || s.trips.length === 0) continue
    figures[name] = {
      authorizeRoundTrips: Math.max(...s.trips),
      authorizeSockets: Math.max(...s.sockets),
      wallMsMedian: round(median(s.wall)),
      // curl runs in a child process: this process's CPU clock does not see its work.
      ...(name.startsWith("curl") ? {} : { cpuMsMedian: round(median(s.cpu)) })
    }
  }
  return figures
}

/** accessToken with a fresh cached token against a bare Ref.get, in the same loop shape. */
const measureAccessToken = async (url: string, iterations: number, repeats: number) => {
  const { runtime } = vedauthClient(url)
  await runtime.runPromise(VedAuth.accessToken)
  const ref = Effect.runSync(Ref.make(Option.some(1)))
  const loop = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      for (let i = 0; i < iterations; i++) yield* effect
    })
  const accessLoop = loop(VedAuth.accessToken)
  const refLoop = loop(Ref.get(ref))
  const access: Array<number> = []
  const bare: Array<number> = []
  for (let r = 0; r < repeats; r++) {
    let t0 = hr()
    await runtime.runPromise(accessLoop)
    access.push(Number(hr() - t0) / iterations)
    t0 = hr()
    await Effect.runPromise(refLoop)
    bare.push(Number(hr() - t0) / iterations)
  }
  await runtime.dispose()
  const accessNs = median(access)
  const refNs = median(bare)
  return { accessTokenNsPerCall: round(accessNs, 1), refGetNsPerCall: round(refNs, 1), accessTokenOverRefGet: round(accessNs / refNs, 1) }
}

const storeKey = (url: string): TokenStore.Key => ({ server: url, clientId: CLIENT_ID, scope: SCOPE, user: `${DOMAIN}\\${USER}` })

/** A grant already past its expiry (but refreshable): the next accessToken must refresh it. */
const staleCopy = (grant: Grant.Grant) =>
  Effect.map(DateTime.now, (now) => new Grant.Grant({ ...grant, issuedAt: DateTime.subtract(now, { hours: 2 }), expiresAt: DateTime.subtract(now, { seconds: 1 }) }))

const measureConcurrentCallers = async (server: ServerHandle, callers: number) => {
  const program = Effect.gen(function*() {
    const store = yield* TokenStore.TokenStore
    const grant = yield* VedAuth.authorize()
    yield* store.set(storeKey(server.url), yield* staleCopy(grant))
    const before = yield* Effect.promise(() => server.stats())
    const tokens = yield* Effect.all(Array.from({ length: callers }, () => VedAuth.accessToken), { concurrency: "unbounded" })
    const after = yield* Effect.promise(() => server.stats())
    const distinct = new Set(tokens.map((token) => Redacted.value(token))).size
    return { refreshes: after.refresh - before.refresh, authorizes: after.authorizeIntegrated - before.authorizeIntegrated, distinctTokens: distinct }
  })
  const vedauth = VedAuth.layer({ url: server.url, clientId: CLIENT_ID, scope: SCOPE, username: `${DOMAIN}\\${USER}`, password: Redacted.make(PASSWORD) })
  return Effect.runPromise(program.pipe(
    Effect.provide(Layer.provideMerge(vedauth, Layer.mergeAll(NodeHttpClient.layer, NodeNtlmTransport.layer(), TokenStore.layerMemory)))
  ))
}

const fileStoreLayer = (path: string) => TokenStore.layerFileSystem({ path }).pipe(Layer.provide(Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer)))

const fileClient = (url: string, path: string) =>
  VedAuth.layer({ url, clientId: CLIENT_ID, scope: SCOPE, username: `${DOMAIN}\\${USER}`, password: Redacted.make(PASSWORD) }).pipe(
    Layer.provideMerge(Layer.mergeAll(NodeHttpClient.layer, NodeNtlmTransport.layer(), fileStoreLayer(path)))
  )

const runWorker = () => {
  const [, , , url, path] = process.argv
  process.on("message", () => {
    Effect.runPromise(Effect.provide(VedAuth.accessToken, fileClient(url!, path!))).then(
      (token) => process.send!({ ok: true, token: Redacted.value(token).slice(0, 6) }),
      (error: unknown) => process.send!({ ok: false, error: failureText(error) })
    )
  })
  process.send!({ ready: true })
}

const measureProcesses = async (server: ServerHandle, processes: number) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-bench-store-"))
  const path = Path.join(dir, "tokens.json")
  try {
    await Effect.runPromise(Effect.gen(function*() {
      const store = yield* TokenStore.TokenStore
      const grant = yield* VedAuth.authorize()
      yield* store.set(storeKey(server.url), yield* staleCopy(grant))
    }).pipe(Effect.provide(fileClient(server.url, path))))
    const children = Array.from({ length: processes }, () => fork(bundle, ["worker", server.url, path], { stdio: ["ignore", "inherit", "inherit", "ipc"] }))
    await Promise.all(children.map((child) => new Promise((ready) => child.once("message", ready))))
    const before = await server.stats()
    const results = await Promise.all(children.map((child) =>
      new Promise<{ ok: boolean; token?: string; error?: string }>((done) => {
        child.once("message", done)
        child.send("go")
      })
    ))
    const after = await server.stats()
    children.forEach((child) => child.kill())
    return {
      refreshes: after.refresh - before.refresh,
      authorizes: after.authorizeIntegrated - before.authorizeIntegrated,
      failures: results.filter((r) => !r.ok).map((r) => r.error),
      distinctTokens: new Set(results.filter((r) => r.ok).map((r) => r.token)).size
    }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

const measureLoad = async (server: ServerHandle, amount: number, connections: number) => {
  const autocannon = require("autocannon")
  const before = await server.stats()
  const result = await autocannon({
    url: `${server.url}/vedauth/authorize/oauth`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ client_id: CLIENT_ID, username: `${DOMAIN}\\${USER}`, password: PASSWORD, scope: SCOPE }),
    connections,
    amount,
    timeout: 10,
    duration: 60
  })
  const after = await server.stats()
  const ok = result["2xx"] as number
  const grantsCreated = after.liveGrants - before.liveGrants
  return {
    requests: result.requests.sent as number,
    connections,
    ok2xx: ok,
    non2xx: result.non2xx as number,
    status5xx: result["5xx"] as number,
    errors: result.errors as number,
    timeouts: result.timeouts as number,
    requestsPerSecond: round(result.requests.average as number, 0),
    latencyMsP50: result.latency.p50 as number,
    latencyMsP99: result.latency.p99 as number,
    grantsCreated,
    lostGrants: ok - grantsCreated
  }
}

const runCommand = (command: string, argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(command, [...argv], { env, timeout: 30_000 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : 1, stdout: String(stdout), stderr: String(stderr) }))
  })

const measureCliStartup = async (server: ServerHandle, runs: number) => {
  const cli = Path.join(root, "packages/cli/dist/vedauth.mjs")
  if (!Fs.existsSync(cli)) return { skipped: "packages/cli/dist/vedauth.mjs does not exist (run `node scripts/build-cli.mjs`)" }
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-bench-cli-"))
  try {
    const store = Path.join(dir, "tokens.json")
    const env = { ...process.env, VEDAUTH_PASSWORD: PASSWORD }
    const cliArgs = [cli, "token", "--url", server.url, "--client-id", CLIENT_ID, "--scope", SCOPE, "--username", `${DOMAIN}\\${USER}`, "--store", store]
    const first = await runCommand(process.execPath, cliArgs, env)
    if (first.code !== 0) return { fails: `vedauth token exited ${first.code}: ${(first.stderr || first.stdout).trim().split("\n")[0]}` }
    const before = await server.stats()
    const cliMs: Array<number> = []
    const nodeMs: Array<number> = []
    for (let r = 0; r < runs; r++) {
      let t0 = hr()
      const cached = await runCommand(process.execPath, cliArgs, env)
      if (cached.code !== 0) return { fails: `vedauth token exited ${cached.code} from the cache` }
      cliMs.push(Number(hr() - t0) / 1e6)
      t0 = hr()
      await runCommand(process.execPath, ["-e", "0"], env)
      nodeMs.push(Number(hr() - t0) / 1e6)
    }
    const after = await server.stats()
    const cliMedian = median(cliMs)
    const nodeMedian = median(nodeMs)
    return {
      vedauthTokenCachedMs: round(cliMedian, 1),
      nodeEmptyMs: round(nodeMedian, 1),
      ratio: round(cliMedian / nodeMedian, 2),
      serverRequestsWhileCached: after.requests - before.requests
    }
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

// ---------------------------------------------------------------- report

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

const curlVersion = () => runCommand("curl", ["--version"], process.env).then((r) => r.stdout.split("\n")[0] ?? "unknown")

const main = async () => {
  const server = await startServer()
  try {
    const sizes = quick
      ? { rounds: 3, warmup: 3, iterations: 20_000, repeats: 3, callers: 1000, processes: 8, load: 300, loadConnections: 10, cliRuns: 3 }
      : { rounds: 30, warmup: 50, iterations: 200_000, repeats: 7, callers: 1000, processes: 8, load: 5000, loadConnections: 50, cliRuns: 15 }
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
      machine: { cpus: `${Os.cpus().length} x ${Os.cpus()[0]?.model ?? "?"}`, memoryGiB: round(Os.totalmem() / 2 ** 30, 1), os: `${Os.type()} ${Os.release()}`, node: process.version },
      versions: { curl: await curlVersion(), "axios-ntlm": versionOf("axios-ntlm"), httpntlm: versionOf("httpntlm"), autocannon: versionOf("autocannon"), effect: versionOf("effect") },
      quick,
      sizes,
      authorize: perClient,
      peerOverVedauth: {
        wall: { "axios-ntlm": ratio("axios-ntlm", "wallMsMedian"), httpntlm: ratio("httpntlm", "wallMsMedian"), "curl --ntlm": ratio("curl --ntlm", "wallMsMedian") },
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
    lines.push(f.fails !== undefined
      ? `${name.padEnd(14)}fails: ${f.fails}`
      : `${name.padEnd(14)}${String(f.authorizeRoundTrips).padEnd(13)}${String(f.authorizeSockets).padEnd(9)}${String(f.wallMsMedian).padEnd(18)}${f.cpuMsMedian ?? "n/a (child process)"}`)
  }
  lines.push(`peer / vedauth: wall ${JSON.stringify(result.peerOverVedauth.wall)}, cpu ${JSON.stringify(result.peerOverVedauth.cpu)}`)
  lines.push(`accessToken (fresh, cached): ${result.accessToken.accessTokenNsPerCall} ns/call; Ref.get: ${result.accessToken.refGetNsPerCall} ns/call; ratio ${result.accessToken.accessTokenOverRefGet}`)
  lines.push(`refreshesUnder1000Callers: ${result.refreshesUnder1000Callers.refreshes} (authorizes ${result.refreshesUnder1000Callers.authorizes}, distinct tokens ${result.refreshesUnder1000Callers.distinctTokens})`)
  lines.push(`refreshesUnder8Processes: ${result.refreshesUnder8Processes.refreshes} (authorizes ${result.refreshesUnder8Processes.authorizes}, failures ${result.refreshesUnder8Processes.failures.length})`)
  const l = result.load
  lines.push(`load (autocannon, ${l.connections} connections, ${l.requests} password grants): ${l.requestsPerSecond} req/s, p50 ${l.latencyMsP50} ms, p99 ${l.latencyMsP99} ms, 2xx ${l.ok2xx}, non-2xx ${l.non2xx}, 5xx ${l.status5xx}, errors ${l.errors}, lost grants ${l.lostGrants}`)
  const c = result.cliStartup
  lines.push(c.ratio !== undefined
    ? `vedauth token (cached): ${c.vedauthTokenCachedMs} ms; node -e 0: ${c.nodeEmptyMs} ms; ratio ${c.ratio}; server requests while cached ${c.serverRequestsWhileCached}`
    : `vedauth token start-up: ${c.fails ?? c.skipped}`)
  process.stdout.write(`${lines.join("\n")}\n`)
}

if (mode === "server") void runServer()
else if (mode === "worker") runWorker()
else {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`)
    process.exitCode = 1
  })
}
