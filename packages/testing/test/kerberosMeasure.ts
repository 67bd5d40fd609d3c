/**
 * Figures, not a test: per Kerberos authorize, our client (NodeVedAuth) against `curl --negotiate`
 * (MIT GSSAPI, ticket from kinit), both against the served simulator and its KDC over HTTP on
 * loopback (curl 7.88 sends no channel bindings). The simulator runs in this process, so the CPU of
 * our authorize includes the server's; curl's line gives its own CPU (from /usr/bin/time) and, apart,
 * what the server spent meanwhile. Run (from the repository root):
 *   npx esbuild packages/testing/test/kerberosMeasure.ts --bundle --platform=node --format=esm \
 *     --outfile=<tmp>/measure.mjs --log-level=warning && node <tmp>/measure.mjs
 */
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeVedAuth } from "@vedauth/platform-node"
import { ManagedRuntime } from "effect"
import { execFile, spawn } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import * as Simulator from "../src/Simulator.js"

const rounds = Number(process.env["ROUNDS"] ?? 30)

const measure = async (label: string, step: () => Promise<unknown>) => {
  for (let i = 0; i < 5; i++) await step() // warm-up
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (let i = 0; i < rounds; i++) await step()
  const wall = (performance.now() - start) / rounds
  const used = process.cpuUsage(cpu)
  console.log(`${label.padEnd(64)} wall ${wall.toFixed(2).padStart(7)} ms   cpu (this process) ${((used.user + used.system) / 1000 / rounds).toFixed(2).padStart(6)} ms`)
}

const main = async () => {
  const served = await Simulator.start({ protocol: "http", kerberos: {} })
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-measure-"))
  try {
    Fs.writeFileSync(Path.join(dir, "krb5.conf"), [
      "[libdefaults]", "  default_realm = CORP.EXAMPLE", "  dns_lookup_kdc = false", "  rdns = false",
      "  dns_canonicalize_hostname = false", "  udp_preference_limit = 1",
      "[realms]", `  CORP.EXAMPLE = {\n    kdc = ${served.kdc}\n  }`, "[domain_realm]", "  localhost = CORP.EXAMPLE", ""
    ].join("\n"))
    const env = { ...process.env, KRB5_CONFIG: Path.join(dir, "krb5.conf"), KRB5CCNAME: `FILE:${Path.join(dir, "curl.ccache")}` }
    // Asynchronous: the KDC answering kinit runs in this process.
    await new Promise<void>((resolve, reject) => {
      const child = spawn("kinit", ["alice@CORP.EXAMPLE"], { env, stdio: ["pipe", "ignore", "inherit"] })
      child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`kinit exited with ${code}`))))
      child.stdin.end("Passw0rd!\n")
    })
    const url = served.url.replace("127.0.0.1", "localhost")
    const options = (extra: Partial<NodeVedAuth.Options>): NodeVedAuth.Options => ({
      url,
      clientId: Simulator.defaultClientId,
      scope: "certificate:manage",
      username: "alice@CORP.EXAMPLE",
      password: Simulator.defaultCredentials.password,
      mechanism: "kerberos",
      kerberos: { kdc: served.kdc! },
      tokenStorePath: Path.join(dir, "tokens.json"),
      ...extra
    })
    const cached = ManagedRuntime.make(NodeVedAuth.layer(options({ kerberos: { kdc: served.kdc!, cache: `FILE:${Path.join(dir, "ours.ccache")}` } })))
    const fresh = ManagedRuntime.make(NodeVedAuth.layer(options({})))
    await measure("ours: authorize, service ticket cached (0 KDC + 1 HTTP)", () => cached.runPromise(VedAuth.authorize()))
    await measure("ours: authorize, password, nothing cached (3 KDC + 1 HTTP)", () => fresh.runPromise(VedAuth.authorize()))
    const body = JSON.stringify({ client_id: Simulator.defaultClientId, scope: "certificate:manage" })
    // bash's `time` over a loop of curls gives their own CPU (children's user + sys, ms resolution);
    // this process's CPU meanwhile is the server's.
    const loop = `TIMEFORMAT='%3U %3S'; { time (for i in $(seq ${rounds}); do curl -s --negotiate -u : -H 'content-type: application/json' --data '${body}' -o /dev/null ${url}/vedauth/authorize/integrated; done) ; } 2>&1`
    const cpu = process.cpuUsage()
    const start = performance.now()
    const { stdout } = await promisify(execFile)("bash", ["-c", loop], { env })
    const wall = (performance.now() - start) / rounds
    const server = process.cpuUsage(cpu)
    const [user, system] = stdout.trim().split(/\s+/).slice(-2).map(Number)
    console.log(`${"curl --negotiate (kinit ccache): curl's own CPU".padEnd(64)} wall ${wall.toFixed(2).padStart(7)} ms   cpu (curl) ${((user! + system!) * 1000 / rounds).toFixed(2).padStart(6)} ms   server ${((server.user + server.system) / 1000 / rounds).toFixed(2)} ms`)
    await cached.dispose()
    await fresh.dispose()
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
    await served.close()
  }
}

void main()
