/**
 * `pnpm bench:kerberos [--quick] [--json]`: what one Kerberos authorize costs, ours against
 * `curl --negotiate` (MIT GSSAPI with a `kinit` credential cache), against the same simulator KDC
 * and acceptor on loopback, with NTLM beside them. Scenarios: nothing cached (a password, or
 * `kinit` first for curl), a cached TGT (a TGT-only MIT ccache, copied fresh before each round),
 * a cached service ticket (the ccache kept between rounds); over HTTP and over HTTPS (ours sends
 * channel bindings and the server checks them; curl 7.88 sends none).
 *
 * KDC and HTTP round trips are counted by the SERVER side (`server.ts`: the simulators' request
 * counters, and a relay in front of each KDC counting TCP connections, one per KDC request), so
 * both clients are measured alike. CPU: ours is this process's own (the simulators run in the
 * child), measured around each authorize; curl's is its processes' user + system time from bash's
 * `time` over a loop, less the same loop's bookkeeping (the `cp` of the ccache) measured apart.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Kerberos } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeKdcTransport, NodeVedAuth } from "@vedauth/platform-node"
import * as Simulator from "@vedauth/testing/Simulator"
import { Acceptor } from "@vedauth/winauth/server"
import { Clock, Effect, Either, Encoding, Layer, ManagedRuntime, Redacted } from "effect"
import { execFile, fork, spawnSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"

const args = new Set(process.argv.slice(2))
const quick = args.has("--quick")
const rounds = Number(process.env["ROUNDS"] ?? (quick ? 5 : 40))
const warmup = quick ? 2 : 5

type Protocol = "http" | "https"
interface Endpoint {
  readonly url: string
  readonly kdc: string
  readonly caPem: string | undefined
  readonly serviceKeytab: string
}
type Counts = Record<Protocol, { readonly http: number; readonly kdc: number }>

const startServers = () =>
  new Promise<{ servers: Record<Protocol, Endpoint>; counts: () => Promise<Counts>; close: () => Promise<void> }>(
    (resolve, reject) => {
      const child = fork(Path.join(Path.dirname(process.argv[1]!), "server.mjs"), [], {
        stdio: ["ignore", "inherit", "inherit", "ipc"]
      })
      let next = 1
      const waiting = new Map<number, (counts: Counts) => void>()
      child.on("message", (message: { id: number; servers?: Record<Protocol, Endpoint>; counts?: Counts }) => {
        if (message.servers !== undefined) {
          resolve({
            servers: message.servers,
            counts: () =>
              new Promise((done) => {
                const id = next++
                waiting.set(id, done)
                child.send({ id, op: "counts" })
              }),
            close: () =>
              new Promise((done) => {
                child.once("exit", () => done())
                child.send({ id: 0, op: "close" })
              })
          })
        } else if (message.counts !== undefined) {
          waiting.get(message.id)?.(message.counts)
          waiting.delete(message.id)
        }
      })
      child.once("error", reject)
    }
  )

interface Row {
  readonly protocol: Protocol
  readonly scenario: string
  readonly client: string
  readonly kdc: number
  readonly http: number
  readonly wallMs: number
  readonly cpuMs: number
}

const median = (values: ReadonlyArray<number>) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

const main = async () => {
  const { close, counts, servers } = await startServers()
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-bench-kerberos-"))
  const rows: Array<Row> = []
  let steps: ReadonlyArray<Step> = []
  const password = Simulator.defaultCredentials.password
  const clearPassword = "Passw0rd!" // the simulator's default user's, for kinit's stdin
  try {
    for (const protocol of ["http", "https"] as const) {
      const endpoint = servers[protocol]
      const url = endpoint.url.replace("127.0.0.1", "localhost")
      const at = (name: string) => Path.join(dir, `${protocol}-${name}`)
      if (endpoint.caPem !== undefined) Fs.writeFileSync(at("ca.pem"), endpoint.caPem)
      Fs.writeFileSync(at("krb5.conf"), Simulator.krb5Conf(endpoint.kdc))
      const env = { ...process.env, KRB5_CONFIG: at("krb5.conf") }
      // A TGT-only MIT ccache, the starting point of the "cached TGT" rounds of both clients.
      const kinit = spawnSync("kinit", ["alice@CORP.EXAMPLE"], {
        env: { ...env, KRB5CCNAME: `FILE:${at("tgt.ccache")}` },
        input: `${clearPassword}\n`
      })
      if (kinit.status !== 0) throw new Error(`kinit failed: ${kinit.stderr}`)

      const delta = async (run: () => Promise<void>) => {
        const before = (await counts())[protocol]
        await run()
        const after = (await counts())[protocol]
        return { kdc: (after.kdc - before.kdc) / rounds, http: (after.http - before.http) / rounds }
      }

      // --- ours: one ManagedRuntime per scenario, authorize() per round ---------------------------
      const ours = async (scenario: string, options: Partial<NodeVedAuth.Options>, before?: () => void) => {
        const runtime = ManagedRuntime.make(NodeVedAuth.layer({
          url,
          clientId: Simulator.defaultClientId,
          scope: "certificate:manage",
          username: "alice@CORP.EXAMPLE",
          password,
          mechanism: "kerberos",
          tokenStorePath: at("tokens.json"),
          ...(endpoint.caPem === undefined ? {} : { transport: { ca: endpoint.caPem } }),
          ...options
        }))
        const once = async () => {
          before?.()
          const cpu = process.cpuUsage()
          const start = performance.now()
          await runtime.runPromise(VedAuth.authorize())
          const used = process.cpuUsage(cpu)
          return { wall: performance.now() - start, cpu: (used.user + used.system) / 1000 }
        }
        for (let i = 0; i < warmup; i++) await once()
        const walls: Array<number> = []
        const cpus: Array<number> = []
        const trips = await delta(async () => {
          for (let i = 0; i < rounds; i++) {
            const { cpu, wall } = await once()
            walls.push(wall)
            cpus.push(cpu)
          }
        })
        await runtime.dispose()
        rows.push({ protocol, scenario, client: "vedauth", ...trips, wallMs: median(walls), cpuMs: median(cpus) })
      }
      const kdc = { kdc: endpoint.kdc }
      await ours("nothing cached", { kerberos: kdc })
      await ours(
        "cached TGT",
        { kerberos: { ...kdc, cache: `FILE:${at("ours-tgt.ccache")}` } },
        () => Fs.copyFileSync(at("tgt.ccache"), at("ours-tgt.ccache"))
      )
      await ours("cached service ticket", { kerberos: { ...kdc, cache: `FILE:${at("ours-st.ccache")}` } })
      await ours("NTLM (for comparison)", { mechanism: "ntlm", username: "CORP\\alice" })

      // --- curl --negotiate: a bash loop, timed by bash ------------------------------------------
      const body = JSON.stringify({ client_id: Simulator.defaultClientId, scope: "certificate:manage" })
      const curl = `curl -sf --negotiate -u : ${
        endpoint.caPem === undefined ? "" : `--cacert ${at("ca.pem")}`
      } -H 'content-type: application/json' --data '${body}' -o /dev/null ${url}/vedauth/authorize/integrated`
      const timed = async (command: string, ccache: string) => {
        const script = `TIMEFORMAT='%3R %3U %3S'; { time (for i in $(seq ${rounds}); do ${command}; done) ; } 2>&1`
        const { stdout } = await promisify(execFile)("bash", ["-c", script], {
          env: { ...env, KRB5CCNAME: `FILE:${ccache}` }
        })
        const [real, user, system] = stdout.trim().split(/\s+/).slice(-3).map(Number)
        return { wall: (real! * 1000) / rounds, cpu: ((user! + system!) * 1000) / rounds }
      }
      const curlRow = async (scenario: string, command: string, ccache: string, overhead?: string) => {
        await timed(command, ccache) // warm-up (page cache, the KDC's first answers)
        let figures = { wall: 0, cpu: 0 }
        const trips = await delta(async () => {
          figures = await timed(command, ccache)
        })
        // The loop's own bookkeeping (copying a ccache back), measured alone and taken off.
        const base = overhead === undefined ? { wall: 0, cpu: 0 } : await timed(overhead, ccache)
        rows.push({
          protocol,
          scenario,
          client: "curl --negotiate",
          ...trips,
          wallMs: figures.wall - base.wall,
          cpuMs: figures.cpu - base.cpu
        })
      }
      const curlCcache = at("curl.ccache")
      await curlRow(
        "nothing cached",
        `echo '${clearPassword}' | kinit alice@CORP.EXAMPLE >/dev/null && ${curl}`,
        curlCcache
      )
      const reset = `cp ${at("tgt.ccache")} ${curlCcache}`
      await curlRow("cached TGT", `${reset} && ${curl}`, curlCcache, reset)
      await curlRow("cached service ticket", curl, curlCcache)
    }
    steps = await measureSteps(servers.http, counts, dir)
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
    await close()
  }
  report(rows, steps)
}

interface Step {
  readonly step: string
  readonly kdc: number
  readonly wallMs: number
  readonly cpuMs: number
}

/**
 * Where the CPU of one authorize goes: each Kerberos step of ours alone, against the HTTP
 * simulator's KDC over TCP (through the counting relay) and an acceptor holding its service keys.
 */
const measureSteps = async (
  endpoint: Endpoint,
  counts: () => Promise<Counts>,
  dir: string
): Promise<ReadonlyArray<Step>> => {
  const runtime = ManagedRuntime.make(Layer.merge(NodeKdcTransport.layer(), NodeFileSystem.layer))
  const keys = Either.getOrThrow(Encoding.decodeBase64(endpoint.serviceKeytab))
  const acceptor = Acceptor.make({ keys: Redacted.value(Either.getOrThrow(Kerberos.keytabFromBytes(keys)).keys) })
  const spn = "HTTP/localhost@CORP.EXAMPLE"
  const password = {
    principal: "alice@CORP.EXAMPLE",
    keySource: { _tag: "Password", password: Simulator.defaultCredentials.password },
    spn,
    kdc: endpoint.kdc
  } as const
  const cache = `FILE:${Path.join(dir, "steps.ccache")}`
  const bindings = new TextEncoder().encode("tls-server-end-point:" + "ab".repeat(32))
  const steps: Array<Step> = []
  const measure = async (step: string, effect: Effect.Effect<unknown, unknown, never>) => {
    for (let i = 0; i < warmup; i++) await runtime.runPromise(effect)
    const walls: Array<number> = []
    const cpus: Array<number> = []
    const before = (await counts()).http.kdc
    for (let i = 0; i < rounds; i++) {
      const cpu = process.cpuUsage()
      const start = performance.now()
      await runtime.runPromise(effect)
      const used = process.cpuUsage(cpu)
      walls.push(performance.now() - start)
      cpus.push((used.user + used.system) / 1000)
    }
    steps.push({ step, kdc: ((await counts()).http.kdc - before) / rounds, wallMs: median(walls), cpuMs: median(cpus) })
  }
  await measure("getTicket, password (AS, AS with preauth, TGS)", Kerberos.getTicket(password))
  await measure("getTicket from a FILE: ccache", Kerberos.getTicket({ ...password, cache }))
  const ticket = await runtime.runPromise(Kerberos.getTicket(password))
  await measure(
    "initiate: the SPNEGO AP-REQ with channel bindings",
    Kerberos.initiate(ticket, { channelBindings: bindings })
  )
  await measure(
    "initiate + the acceptor's accept + complete (mutual)",
    Effect.gen(function*() {
      const initiator = yield* Kerberos.initiate(ticket, { channelBindings: bindings })
      const now = yield* Clock.currentTimeMillis
      const accepted = acceptor.accept(initiator.token, { now, channelBindings: bindings })
      yield* initiator.complete(accepted.token)
    })
  )
  await runtime.dispose()
  return steps
}

const fixed = (n: number, digits = 2) => n.toFixed(digits)

const table = (header: ReadonlyArray<string>, lines: ReadonlyArray<ReadonlyArray<string>>, textColumns: number) => {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const print = (cells: ReadonlyArray<string>) =>
    console.log(cells.map((c, i) => (i < textColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
  print(header)
  print(widths.map((w) => "-".repeat(w)))
  lines.forEach(print)
}

const report = (rows: ReadonlyArray<Row>, steps: ReadonlyArray<Step>) => {
  if (args.has("--json")) {
    console.log(JSON.stringify({ rounds, rows, steps }, null, 2))
    return
  }
  console.log(
    `Kerberos authorize, ${rounds} rounds each after ${warmup} warm-up (median per authorize for ours; mean for curl), Node ${process.version}`
  )
  const header = ["protocol", "scenario", "client", "KDC trips", "HTTP trips", "wall ms", "CPU ms", "CPU ours/curl"]
  const lines = rows.map((row) => {
    const peer = rows.find((r) => r.protocol === row.protocol && r.scenario === row.scenario && r.client !== row.client)
    const ratio = row.client === "vedauth" && peer !== undefined && peer.cpuMs > 0
      ? `${fixed(row.cpuMs / peer.cpuMs)}x`
      : ""
    return [
      row.protocol,
      row.scenario,
      row.client,
      fixed(row.kdc, 1),
      fixed(row.http, 1),
      fixed(row.wallMs),
      fixed(row.cpuMs),
      ratio
    ]
  })
  table(header, lines, 3)
  const ntlm = rows.filter((r) => r.scenario.startsWith("NTLM"))
  for (const row of ntlm) {
    const st = rows.find((r) =>
      r.protocol === row.protocol && r.client === "vedauth" && r.scenario === "cached service ticket"
    )
    if (st !== undefined) {
      console.log(
        `${row.protocol}: ours, Kerberos with a cached service ticket / NTLM: CPU ${
          fixed(st.cpuMs / row.cpuMs)
        }x, wall ${fixed(st.wallMs / row.wallMs)}x`
      )
    }
  }
  console.log("\nOurs, step by step (median; the HTTP simulator's KDC over TCP):")
  table(
    ["step", "KDC trips", "wall ms", "CPU ms"],
    steps.map((s) => [s.step, fixed(s.kdc, 1), fixed(s.wallMs), fixed(s.cpuMs)]),
    1
  )
}

main().catch((error) => {
  console.error(error)
  process.exitCode = 1
})
