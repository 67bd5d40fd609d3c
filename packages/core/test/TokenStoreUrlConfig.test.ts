import type { Path } from "@effect/platform"
import { NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigError, ConfigProvider, Effect, Layer } from "effect"
import * as TokenStore from "../src/TokenStore.js"
import { sampleGrant } from "../src/TokenStoreConformance.js"
import type { TokenStoreFiles } from "../src/TokenStoreFiles.js"
import { MemoryFiles } from "./fixtures/memoryFileSystem.js"

// A store URL with a password: the errors below must never quote it.
const redisUrl = "redis://app:S3cret-Pw@127.0.0.1:6379/0"

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

// Uses the store once, so that a store that had accepted the URL would have written its file.
const useStore = TokenStore.TokenStore.pipe(Effect.flatMap((store) =>
  store.set(
    { server: "https://tpp.example.test", clientId: "app", scope: "certificate:manage", user: "CORP\\alice" },
    sampleGrant(1)
  )
))

const invalidData = (error: unknown): ConfigError.InvalidData => {
  assert.isTrue(ConfigError.isConfigError(error) && ConfigError.isInvalidData(error), String(error))
  return error as ConfigError.InvalidData
}

describe("a URL where the file store expects a path", () => {
  it("isStoreUrl: scheme:// is a URL; paths, Windows drives and relative names are not", () => {
    for (const url of [redisUrl, "rediss://h:6380", "REDIS://h", "file:///tmp/x", "valkey+tls://h"]) {
      assert.isTrue(TokenStore.isStoreUrl(url), url)
    }
    for (
      const path of [
        "/state/tokens.json",
        "tokens.json",
        "C:\\Users\\a\\tokens.json",
        "C://Users/a/tokens.json",
        "./redis:x",
        "redis:"
      ]
    ) {
      assert.isFalse(TokenStore.isStoreUrl(path), path)
    }
  })

  it.effect("defaultPath: VEDAUTH_TOKEN_STORE=redis://... fails with a ConfigError naming the Redis store, never the URL", () =>
    Effect.gen(function*() {
      const error = invalidData(
        yield* Effect.flip(
          TokenStore.defaultPath.pipe(
            withEnv({ VEDAUTH_TOKEN_STORE: redisUrl, HOME: "/h" }),
            Effect.provide(NodePath.layer)
          )
        )
      )
      assert.deepStrictEqual(error.path, ["VEDAUTH_TOKEN_STORE"])
      assert.include(error.message, "redis:// URL, not a file path")
      assert.include(error.message, "RedisTokenStore.layerConfig()")
      assert.notInclude(String(error), "S3cret-Pw")
      assert.notInclude(String(error), "127.0.0.1")
    }))

  it.effect("Live and layerConfig(path) refuse a URL before touching the file system", () =>
    Effect.gen(function*() {
      const files = new MemoryFiles()
      const provided = (
        layer: Layer.Layer<TokenStore.TokenStore, ConfigError.ConfigError, TokenStoreFiles | Path.Path>
      ) => Effect.flip(useStore.pipe(Effect.provide(layer), Effect.provide(Layer.merge(files.layer(), NodePath.layer))))
      const fromLive = invalidData(
        yield* provided(TokenStore.Live).pipe(withEnv({ VEDAUTH_TOKEN_STORE: "rediss://u:S3cret-Pw@cache:6380" }))
      )
      assert.include(fromLive.message, "rediss:// URL")
      const fromPath = invalidData(yield* provided(TokenStore.layerConfig(Config.succeed(redisUrl))))
      assert.include(fromPath.message, "RedisTokenStore.layerConfig()")
      const other = invalidData(yield* provided(TokenStore.layerConfig(Config.succeed("file:///state/tokens.json"))))
      assert.include(other.message, "file:// URL, not a file path")
      for (const error of [fromLive, fromPath, other]) assert.notInclude(String(error), "S3cret-Pw")
      assert.deepStrictEqual([...files.files.keys(), ...files.folders.keys()], [], "nothing created")
    }))

  it.effect("a path still works", () =>
    Effect.gen(function*() {
      const files = new MemoryFiles()
      yield* useStore.pipe(
        Effect.provide(TokenStore.Live),
        Effect.provide(Layer.merge(files.layer(), NodePath.layer)),
        withEnv({ VEDAUTH_TOKEN_STORE: "/state/tokens.json" })
      )
      assert.isTrue(files.files.has("/state/tokens.json"))
    }))
})
