/**
 * Takes the file store's lock and holds it until killed: the test kill -9s it mid-lock and checks
 * that the next process does not wait out the stale time. Prints "locked" once it holds the lock.
 */
import { NodePath } from "@effect/platform-node"
import * as TokenStore from "@vedauth/core/TokenStore"
import { Effect, Layer } from "effect"
import * as NodeTokenStoreFiles from "../src/NodeTokenStoreFiles.js"

const [storePath] = process.argv.slice(2) as [string]
const key: TokenStore.Key = { server: "https://tpp.example.test", clientId: "app", scope: "s", user: "u" }

const program = Effect.flatMap(
  TokenStore.TokenStore,
  (store) => store.withLock(key, Effect.zipRight(Effect.sync(() => process.stdout.write("locked\n")), Effect.never))
)

Effect.runFork(
  program.pipe(
    Effect.provide(TokenStore.layerFileSystem({ path: storePath })),
    Effect.provide(Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer))
  )
)
