import { FileSystem } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Grant, TokenStore } from "@vedauth/core"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import { chmodSync, readFileSync, symlinkSync } from "node:fs"
import { dirname, join } from "node:path"
import { cachedTokenOutput } from "../src/internal/cachedToken.js"
import { bin } from "./support/runCli.js"

const now = Date.UTC(2026, 10, 30, 12)

const grant = (expiresInMinutes: number, token: string) =>
  new Grant.Grant({
    accessToken: Redacted.make(token),
    refreshToken: Option.some(Redacted.make("refresh==")),
    tokenType: "Bearer",
    scope: "certificate:manage",
    identity: "AD+corp:{x}",
    issuedAt: DateTime.unsafeMake(now - 60_000),
    expiresAt: DateTime.unsafeMake(now + expiresInMinutes * 60_000),
    refreshUntil: Option.some(DateTime.unsafeMake(now + 86_400_000))
  })

// Grants written by core's own file store, then read by the lean path: the two agree on the format and the key.
const withStore = (grants: ReadonlyArray<readonly [TokenStore.Key, Grant.Grant]>) =>
  Effect.gen(function*() {
    const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped({ prefix: "vedauth-cli-lean-" })
    const path = `${dir}/tokens.json`
    const store = yield* Effect.provide(
      TokenStore.TokenStore,
      TokenStore.layerFileSystem({ path }).pipe(Layer.provide(NodeTokenStoreFiles.layer))
    )
    for (const [key, value] of grants) yield* store.set(key, value)
    return path
  })

const key = { server: "https://TPP.example.test/", clientId: "app", scope: "certificate:manage", user: "CORP\\Alice" }
const selectors = ["--url", "https://tpp.example.test", "--client-id", "app", "--scope", "certificate:manage"]

describe("the lean token path", () => {
  it.scoped("answers from core's store file, whatever the user's and server's spelling", () =>
    Effect.gen(function*() {
      const store = yield* withStore([[key, grant(60, "fresh==")]])
      const lean = (...args: ReadonlyArray<string>) =>
        cachedTokenOutput(["token", ...selectors, "--store", store, ...args], {}, now)
      assert.strictEqual(lean("--username", "alice@corp"), "fresh==\n")
      assert.strictEqual(lean("--username", "corp\\ALICE"), "fresh==\n")
      assert.strictEqual(lean(), "fresh==\n", "the one stored grant")
      assert.strictEqual(lean("--json"), `{"access_token":"fresh==","expires":${Math.floor(now / 1000) + 3600}}\n`)
      assert.isUndefined(lean("--username", "CORP\\bob"))
      assert.isUndefined(lean("--password-stdin"))
      assert.isUndefined(lean("--profile", "nope"), "a profile asked for by name must exist")
      assert.isUndefined(lean("--usernme", "x"), "a usage problem is the full CLI's to explain")
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("leaves a token in its refresh window, several users, or a foreign file to the full CLI", () =>
    Effect.gen(function*() {
      // Lifetime 6 minutes: core's window is 36 seconds (10%), so the lean path serves it until then, as the managed token would.
      const near = yield* withStore([[key, grant(5, "near==")]])
      const freshUntil = now + 5 * 60_000 - 36_000
      assert.strictEqual(cachedTokenOutput(["token", ...selectors, "--store", near], {}, freshUntil - 1), "near==\n")
      assert.isUndefined(cachedTokenOutput(["token", ...selectors, "--store", near], {}, freshUntil))
      const two = yield* withStore([[key, grant(60, "a==")], [{ ...key, user: "CORP\\bob" }, grant(60, "b==")]])
      assert.isUndefined(cachedTokenOutput(["token", ...selectors, "--store", two], {}, now))
      const fs = yield* FileSystem.FileSystem
      yield* fs.writeFileString(two, JSON.stringify({ format: "vedauth-token-store", version: 2, grants: {} }))
      assert.isUndefined(
        cachedTokenOutput(["token", ...selectors, "--store", two, "--username", "CORP\\alice"], {}, now)
      )
    }).pipe(Effect.provide(NodeContext.layer)))

  it.scoped("reads the store by the store's trust rules: no symlink, no FIFO, no file others could write or read", () =>
    Effect.gen(function*() {
      const store = yield* withStore([[key, grant(60, "fresh==")]])
      const lean = (path: string) =>
        cachedTokenOutput(["token", ...selectors, "--store", path, "--username", "CORP\\alice"], {}, now)
      assert.strictEqual(lean(store), "fresh==\n", "the untouched store is served")
      const dir = dirname(store)
      // A symbolic link to a valid store (as another user could plant one) is not followed.
      symlinkSync(store, join(dir, "link.json"))
      assert.isUndefined(lean(join(dir, "link.json")))
      // A FIFO at the store path: the lean path must not block opening it.
      execFileSync("mkfifo", [join(dir, "fifo.json")])
      assert.isUndefined(lean(join(dir, "fifo.json")))
      // Group-writable: its tokens may have been planted. Readable by others: the full CLI tightens it and warns.
      chmodSync(store, 0o620)
      assert.isUndefined(lean(store))
      chmodSync(store, 0o644)
      assert.isUndefined(lean(store))
      chmodSync(store, 0o600)
      // A folder others can write to lets them swap the file.
      chmodSync(dir, 0o777)
      assert.isUndefined(lean(store))
      chmodSync(dir, 0o700)
      assert.strictEqual(lean(store), "fresh==\n")
    }).pipe(Effect.provide(NodeContext.layer)))

  it("loads neither Effect nor the core library (but its Effect-free TokenStoreFormat) nor the simulator (the bundle's static imports)", () => {
    const seen = new Set<string>()
    const visit = (file: string) => {
      if (seen.has(file)) return
      seen.add(file)
      const text = readFileSync(file, "utf8")
      for (const [, target] of text.matchAll(/^import\s[^;]*?from\s*"(\.[^"]+)"|^import\s*"(\.[^"]+)"/gm)) {
        if (target !== undefined) visit(join(dirname(file), target))
      }
      for (const [, target] of text.matchAll(/^import\s*"(\.[^"]+)"/gm)) visit(join(dirname(file), target!))
    }
    visit(bin)
    assert.isAtLeast(seen.size, 2)
    for (const file of seen) {
      const text = readFileSync(file, "utf8")
      // esbuild marks each bundled module with its source path.
      for (const heavy of ["node_modules/effect/", "packages/testing/src/", "@effect/platform"]) {
        assert.notInclude(text, heavy, `${file} carries ${heavy}`)
      }
      for (const [module] of text.matchAll(/packages\/core\/src\/[\w/.]+/g)) {
        assert.strictEqual(module, "packages/core/src/TokenStoreFormat.ts", `${file} carries ${module}`)
      }
    }
  })
})
