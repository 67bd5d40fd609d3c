import { FileSystem } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import * as Grant from "@vedauth/core/Grant"
import * as TokenStore from "@vedauth/core/TokenStore"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import * as NodeTokenStoreFiles from "../src/NodeTokenStoreFiles.js"
import { bundleWorker, startWorker } from "./support/worker.js"

const key: TokenStore.Key = {
  server: "https://tpp.example.test",
  clientId: "app",
  scope: "certificate:manage",
  user: "CORP\\alice"
}

describe("two OS processes sharing one store file", () => {
  it.live("both ask for the token at the refresh point: exactly one refresh, both get the same token", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped()
      const store = `${dir}/state/tokens.json`
      const log = `${dir}/requests.log`
      const bundle = yield* Effect.promise(() =>
        bundleWorker(new URL("./raceWorker.ts", import.meta.url).pathname, `${dir}/worker.cjs`)
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
        Effect.provide(TokenStore.layerFileSystem({ path: store })),
        Effect.provide(NodeTokenStoreFiles.layer)
      )
      yield* fs.writeFileString(log, "")

      const workers = [startWorker(bundle, [store, log]), startWorker(bundle, [store, log])]
      yield* Effect.promise(() => Promise.all(workers.map((w) => w.said("ready"))))
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
