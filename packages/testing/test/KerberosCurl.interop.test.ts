/**
 * Interop: MIT's `kinit` gets alice's tickets from the served simulator's KDC, and `curl
 * --negotiate` (the system GSSAPI) authorizes against the simulator's acceptor with them, over HTTP
 * (Debian's curl 7.88 sends no channel bindings). Independent client, our KDC and acceptor.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { Effect, Layer } from "effect"
import { execFile, spawn } from "node:child_process"
import { promisify } from "node:util"
import * as Simulator from "../src/Simulator.js"

const kinit = (env: NodeJS.ProcessEnv, password: string) =>
  Effect.async<void, Error>((resume) => {
    const child = spawn("kinit", ["alice@CORP.EXAMPLE"], { env, stdio: ["pipe", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("exit", (code) => resume(code === 0 ? Effect.void : Effect.fail(new Error(`kinit failed: ${stderr}`))))
    child.stdin.end(`${password}\n`)
  })

describe("kinit and curl --negotiate against the served simulator and its KDC", () => {
  it.live("kinit takes a TGT from our KDC and curl authorizes alice with one Negotiate request", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const served = yield* Simulator.serve({ protocol: "http", kerberos: {} })
      const conf = Simulator.krb5Conf(served.kdc!)
      yield* fs.writeFileString(`${dir}/krb5.conf`, conf)
      const env = { ...process.env, KRB5_CONFIG: `${dir}/krb5.conf`, KRB5CCNAME: `FILE:${dir}/ccache` }
      yield* kinit(env, "Passw0rd!")
      const url = served.url.replace("127.0.0.1", "localhost") + "/vedauth/authorize/integrated"
      const body = JSON.stringify({ client_id: Simulator.defaultClientId, scope: "certificate:manage" })
      const { stdout } = yield* Effect.promise(() =>
        promisify(execFile)("curl", [
          "--silent",
          "--show-error",
          "--negotiate",
          "-u",
          ":",
          "-H",
          "content-type: application/json",
          "--data",
          body,
          "--write-out",
          "\n%{http_code}",
          url
        ], { env })
      )
      const [json, status] = stdout.trim().split("\n")
      assert.strictEqual(status, "200")
      assert.strictEqual((JSON.parse(json!) as { scope: string }).scope, "certificate:manage")
      const stats = yield* served.simulator.stats
      assert.strictEqual(stats.handshakesCompleted, 1)
      assert.strictEqual(stats.handshakesRejected, 0)
    }).pipe(Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)), Effect.scoped))
})
