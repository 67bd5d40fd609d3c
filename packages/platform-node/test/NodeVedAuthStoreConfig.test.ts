/** NodeVedAuth and a store that is not a file: the `tokenStore` option, and a URL where a path was expected. */
import { assert, describe, it } from "@effect/vitest"
import * as TokenStore from "@vedauth/core/TokenStore"
import { sampleGrant } from "@vedauth/core/TokenStoreConformance"
import * as VedAuth from "@vedauth/core/VedAuth"
import { TokenStoreError } from "@vedauth/core/VedAuthError"
import { Config, ConfigError, ConfigProvider, Effect, Layer, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as NodeVedAuth from "../src/NodeVedAuth.js"

// The store URL carries a password: no error may quote it.
const storeUrl = "redis://app:S3cret-Pw@127.0.0.1:6379/0"

const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-store-config-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

// No server answers here: every test below is decided before a request would be made.
const tppUrl = "https://tpp.example.test"
const key: TokenStore.Key = { server: tppUrl, clientId: "app", scope: "certificate:manage", user: "CORP\\alice" }
const envOf = (dir: string): Record<string, string> => ({
  VEDAUTH_URL: tppUrl,
  VEDAUTH_CLIENT_ID: key.clientId,
  VEDAUTH_SCOPE: key.scope,
  VEDAUTH_USERNAME: key.user,
  VEDAUTH_TOKEN_STORE: storeUrl,
  HOME: dir,
  XDG_STATE_HOME: dir
})
const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("NodeVedAuth with VEDAUTH_TOKEN_STORE=redis://...", () => {
  it.scoped("layerConfig fails with a ConfigError naming the Redis store; no file named after the URL is created", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const failure = yield* Effect.flip(
        VedAuth.accessToken.pipe(Effect.provide(NodeVedAuth.layerConfig()), withEnv(envOf(dir)))
      )
      assert.isTrue(ConfigError.isConfigError(failure) && ConfigError.isInvalidData(failure), String(failure))
      assert.include(String(failure), "RedisTokenStore.layerConfig()")
      assert.include(String(failure), "`tokenStore` option")
      assert.notInclude(String(failure), "S3cret-Pw")
      // Nothing written: not in the state folder, not relative to the working folder.
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
      assert.isFalse(Fs.existsSync(Path.resolve("redis:")))
    }))

  it.scoped("tokenStorePath given a URL fails the same way", () =>
    Effect.gen(function*() {
      const failure = yield* Effect.flip(VedAuth.stored.pipe(Effect.provide(NodeVedAuth.layer({
        url: tppUrl,
        clientId: key.clientId,
        scope: key.scope,
        tokenStorePath: storeUrl
      }))))
      assert.isTrue(ConfigError.isConfigError(failure), String(failure))
      assert.include(String(failure), "redis:// URL, not a file path")
      assert.notInclude(String(failure), "S3cret-Pw")
      assert.isFalse(Fs.existsSync(Path.resolve("redis:")))
    }))

  it.scoped("the tokenStore option is used instead, and the env's URL is then not read as a path", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const store = yield* Layer.build(TokenStore.layerMemory)
      yield* Effect.flatMap(TokenStore.TokenStore, (tokens) => tokens.set(key, sampleGrant(7))).pipe(
        Effect.provide(store)
      )
      const layer = NodeVedAuth.layerConfig(
        Config.map(NodeVedAuth.config, (options) => ({ ...options, tokenStore: Layer.succeedContext(store) }))
      )
      const stored = yield* VedAuth.stored.pipe(Effect.provide(layer), withEnv(envOf(dir)))
      assert.strictEqual(
        stored._tag === "Some" ? Redacted.value(stored.value.accessToken) : undefined,
        Redacted.value(sampleGrant(7).accessToken)
      )
      assert.deepStrictEqual(Fs.readdirSync(dir), [])
    }))

  it.scoped("a store that cannot be opened fails the layer with its own typed error", () =>
    Effect.gen(function*() {
      const refused = new TokenStoreError({ detail: "Redis connect at redis://127.0.0.1:1/0 failed" })
      const failure = yield* Effect.flip(VedAuth.stored.pipe(Effect.provide(NodeVedAuth.layer({
        url: tppUrl,
        clientId: key.clientId,
        scope: key.scope,
        tokenStore: Layer.fail(refused)
      }))))
      assert.strictEqual(failure, refused)
    }))
})
