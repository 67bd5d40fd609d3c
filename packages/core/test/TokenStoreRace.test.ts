import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { build } from "esbuild"
import { spawn } from "node:child_process"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import * as Grant from "../src/Grant.js"
import * as TokenStore from "../src/TokenStore.js"

const key: TokenStore.Key = { server: "https://tpp.example.test", clientId: "app", scope: "certificate:manage", user: "CORP\\alice" }

// Runs the bundled worker, resolves with its output once it has said "ready" and been told "go".
const startWorker = (bundle: string, store: string, log: string) => {
  const child = spawn(process.execPath, [bundle, store, log], { stdio: ["pipe", "pipe", "inherit"] })
  let output = ""
  const ready = new Promise<void>((resolve) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes("ready\n")) resolve()
    })
  })
  const done = new Promise<string>((resolve, reject) => {
    child.on("error", reject)
    child.on("exit", () => resolve(output))
  })
  // A worker that dies before "ready" must fail the test, not hang it.
  return { ready: Promise.race([ready, done.then(() => undefined)]), done, go: () => child.stdin.end("go\n") }
}

describe("two OS processes sharing one store file", () => {
  it.live("both ask for the token at the refresh point: exactly one refresh, both get the same token", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const bundle = `${dir}/worker.cjs`
      const store = `${dir}/state/tokens.json`
      const log = `${dir}/requests.log`
      yield* Effect.promise(() =>
        build({
          entryPoints: [new URL("./fixtures/raceWorker.ts", import.meta.url).pathname],
          bundle: true,
          platform: "node",
          format: "cjs",
          outfile: bundle,
          logLevel: "silent"
        })
      )
      // A grant inside its refresh window (10 seconds left of an hour), stored as another run left it.
      const now = yield* DateTime.now
      const grant = new Grant.Grant({
        accessToken: Redacted.make("old-access=="),
        refreshToken: Option.some(Redacted.make("old-refresh==")),
        tokenType: "Bearer",
        scope: "certificate:manage",
        identity: "local:{race}",
        issuedAt: DateTime.subtract(now, { seconds: 3590 }),
        expiresAt: DateTime.add(now, { seconds: 10 }),
        refreshUntil: Option.none()
      })
      yield* Effect.flatMap(TokenStore.TokenStore, (s) => s.set(key, grant)).pipe(
        Effect.provide(TokenStore.layerFileSystem({ path: store }))
      )
      yield* fs.writeFileString(log, "")

      const workers = [startWorker(bundle, store, log), startWorker(bundle, store, log)]
      yield* Effect.promise(() => Promise.all(workers.map((w) => w.ready)))
      for (const worker of workers) worker.go()
      const outputs = yield* Effect.promise(() => Promise.all(workers.map((w) => w.done)))

      const requests = (yield* fs.readFileString(log)).trim().split("\n")
      assert.strictEqual(requests.filter((line) => line.startsWith("refresh")).length, 1, requests.join("; "))
      assert.strictEqual(requests.filter((line) => line.startsWith("authorize")).length, 0)
      const tokens = outputs.map((out) => /token (\S+)/.exec(out)?.[1])
      assert.isDefined(tokens[0], outputs.join(" | "))
      assert.strictEqual(tokens[0], tokens[1])
      assert.notStrictEqual(tokens[0], "old-access==")
      assert.isFalse(yield* fs.exists(`${store}.lock`))
    }).pipe(Effect.scoped, Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer))))
})
