/**
 * Figures, not a test: CPU and wall time per Kerberos step against a throwaway MIT KDC, and the
 * same steps done by MIT's own tools for reference. Run (from the repository root):
 *   npx esbuild packages/platform-node/test/kerberos/measure.ts --bundle --platform=node --format=esm \
 *     --outfile=<tmp>/measure.mjs --log-level=warning && node <tmp>/measure.mjs
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Effect, Layer, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import * as Path from "node:path"
import type { FileSystem } from "@effect/platform"
import { Kerberos } from "@vedauth/core"
import type { KdcTransport } from "@vedauth/core/KdcTransport"
import * as NodeKdcTransport from "../../src/NodeKdcTransport.js"
import { REALM, SPN, startRealm } from "./mitRealm.js"

const rounds = Number(process.env["ROUNDS"] ?? 30)
const alice = { name: "alice", password: "Correct-Horse-7" }

const measure = async (label: string, step: () => Promise<unknown>) => {
  for (let i = 0; i < 5; i++) await step() // warm-up
  const cpu = process.cpuUsage()
  const start = performance.now()
  for (let i = 0; i < rounds; i++) await step()
  const wall = (performance.now() - start) / rounds
  const used = process.cpuUsage(cpu)
  console.log(`${label.padEnd(58)} wall ${wall.toFixed(2).padStart(7)} ms   cpu ${((used.user + used.system) / 1000 / rounds).toFixed(2).padStart(7)} ms`)
}

const main = async () => {
  const realm = await startRealm([alice])
  try {
    const layer = Layer.merge(NodeKdcTransport.layer(), NodeFileSystem.layer)
    const run = <A, E>(effect: Effect.Effect<A, E, KdcTransport | FileSystem.FileSystem>) => Effect.runPromise(Effect.provide(effect, layer))
    const kdc = `127.0.0.1:${realm.kdc.port}`
    const password = { principal: `alice@${REALM}`, credentials: { _tag: "Password", password: Redacted.make(alice.password) }, spn: SPN, kdc } as const
    const cache = Path.join(realm.dir, "measure.ccache")
    const keytab = await run(Kerberos.readKeytab(await realm.keytab(SPN, "http.keytab")))
    const acceptor = Kerberos.makeAcceptor({ keytab })
    const bindings = new TextEncoder().encode("tls-server-end-point:" + "ab".repeat(32))
    console.log(`${rounds} rounds each, after 5 warm-up rounds; MIT krb5kdc on 127.0.0.1:${realm.kdc.port}`)
    await measure("vedauth getTicket, password (AS+preauth+TGS: 3 KDC trips)", () => run(Kerberos.getTicket(password)))
    await run(Kerberos.getTicket({ ...password, cache }))
    await measure("vedauth getTicket from FILE: ccache (0 KDC trips)", () => run(Kerberos.getTicket({ ...password, cache })))
    const ticket = await run(Kerberos.getTicket(password))
    await measure("vedauth initiate (SPNEGO AP-REQ, channel bindings)", () => run(Kerberos.initiate(ticket, { channelBindings: bindings })))
    await measure("vedauth initiate + accept + complete (mutual auth)", () =>
      run(Effect.gen(function*() {
        const initiator = yield* Kerberos.initiate(ticket, { channelBindings: bindings })
        const accepted = yield* acceptor.accept(initiator.token, { channelBindings: bindings })
        yield* initiator.complete(accepted.token)
      })))
    const env = { ...realm.env, KRB5CCNAME: `FILE:${Path.join(realm.dir, "mit.ccache")}` }
    await measure("MIT kinit + kvno (two processes; cpu is theirs, not counted)", async () => {
      execFileSync("kinit", ["alice"], { env, input: `${alice.password}\n`, stdio: ["pipe", "ignore", "ignore"] })
      execFileSync("kvno", [SPN], { env, stdio: "ignore" })
    })
  } finally {
    await realm.stop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
