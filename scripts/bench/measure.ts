/** The figures: the simulator's process, and each measurement the report shows. */
import { TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import type * as Simulator from "@vedauth/testing/Simulator"
import { Effect, Option, Redacted, Ref } from "effect"
import { type ChildProcess, execFile, fork } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { type Authorize, vedauthClient } from "./clients.js"
import {
  CLIENT_ID,
  DOMAIN,
  entry,
  failureText,
  fileStoreLayer,
  hr,
  median,
  PASSWORD,
  root,
  round,
  SCOPE,
  staleCopy,
  storeKey,
  USER,
  vedauthLayer
} from "./common.js"

declare const require: (name: string) => any

type Stats = Simulator.Stats

export interface ServerHandle {
  readonly url: string
  readonly stats: () => Promise<Stats>
  readonly close: () => Promise<void>
}

export const startServer = () =>
  new Promise<ServerHandle>((resolve, reject) => {
    const child: ChildProcess = fork(entry("server"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
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

export interface ClientFigures {
  authorizeRoundTrips?: number
  authorizeSockets?: number
  wallMsMedian?: number
  cpuMsMedian?: number
  fails?: string
}

export const measureClients = async (server: ServerHandle, clients: Record<string, Authorize>, rounds: number) => {
  const figures: Record<string, ClientFigures> = {}
  const samples: Record<
    string,
    { trips: Array<number>; sockets: Array<number>; wall: Array<number>; cpu: Array<number> }
  > = {}
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
export const measureAccessToken = async (url: string, iterations: number, repeats: number) => {
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
  return {
    accessTokenNsPerCall: round(accessNs, 1),
    refGetNsPerCall: round(refNs, 1),
    accessTokenOverRefGet: round(accessNs / refNs, 1)
  }
}

export const measureConcurrentCallers = async (server: ServerHandle, callers: number) => {
  const program = Effect.gen(function*() {
    const store = yield* TokenStore.TokenStore
    const grant = yield* VedAuth.authorize()
    yield* store.set(storeKey(server.url), yield* staleCopy(grant))
    const before = yield* Effect.promise(() => server.stats())
    const tokens = yield* Effect.all(Array.from({ length: callers }, () => VedAuth.accessToken), {
      concurrency: "unbounded"
    })
    const after = yield* Effect.promise(() => server.stats())
    const distinct = new Set(tokens.map((token) => Redacted.value(token))).size
    return {
      refreshes: after.refresh - before.refresh,
      authorizes: after.authorizeIntegrated - before.authorizeIntegrated,
      distinctTokens: distinct
    }
  })
  return Effect.runPromise(program.pipe(Effect.provide(vedauthLayer(server.url, TokenStore.layerMemory))))
}

export const measureProcesses = async (server: ServerHandle, processes: number) => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-bench-store-"))
  const path = Path.join(dir, "tokens.json")
  try {
    await Effect.runPromise(
      Effect.gen(function*() {
        const store = yield* TokenStore.TokenStore
        const grant = yield* VedAuth.authorize()
        yield* store.set(storeKey(server.url), yield* staleCopy(grant))
      }).pipe(Effect.provide(vedauthLayer(server.url, fileStoreLayer(path))))
    )
    const children = Array.from(
      { length: processes },
      () => fork(entry("worker"), [server.url, path], { stdio: ["ignore", "inherit", "inherit", "ipc"] })
    )
    await Promise.all(children.map((child) => new Promise((ready) => child.once("message", ready))))
    const before = await server.stats()
    const results = await Promise.all(
      children.map((child) =>
        new Promise<{ ok: boolean; token?: string; error?: string }>((done) => {
          child.once("message", done)
          child.send("go")
        })
      )
    )
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

export const measureLoad = async (server: ServerHandle, amount: number, connections: number) => {
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

export const runCommand = (command: string, argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      command,
      [...argv],
      { env, timeout: 30_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : 1,
          stdout: String(stdout),
          stderr: String(stderr)
        })
    )
  })

export const measureCliStartup = async (server: ServerHandle, runs: number) => {
  const cli = Path.join(root, "packages/cli/dist/vedauth.mjs")
  if (!Fs.existsSync(cli)) {
    return { skipped: "packages/cli/dist/vedauth.mjs does not exist (run `node scripts/build-cli.mjs`)" }
  }
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-bench-cli-"))
  try {
    const store = Path.join(dir, "tokens.json")
    const env = { ...process.env, VEDAUTH_PASSWORD: PASSWORD }
    const cliArgs = [
      cli,
      "token",
      "--url",
      server.url,
      "--client-id",
      CLIENT_ID,
      "--scope",
      SCOPE,
      "--username",
      `${DOMAIN}\\${USER}`,
      "--store",
      store
    ]
    const first = await runCommand(process.execPath, cliArgs, env)
    if (first.code !== 0) {
      return { fails: `vedauth token exited ${first.code}: ${(first.stderr || first.stdout).trim().split("\n")[0]}` }
    }
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
