/** A file store on the real file system in a temp folder of the test's own, and grants to put in it. */
import { NodePath } from "@effect/platform-node"
import * as Grant from "@vedauth/core/Grant"
import * as TokenStore from "@vedauth/core/TokenStore"
import * as TokenStoreConformance from "@vedauth/core/TokenStoreConformance"
import { DateTime, Effect, Layer, Option, Schema } from "effect"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import * as NodeTokenStoreFiles from "../../src/NodeTokenStoreFiles.js"

export const key = TokenStoreConformance.sampleKey
export const otherKey: TokenStore.Key = { ...key, scope: "ssh" }
export const grant = TokenStoreConformance.sampleGrant

/** A temp folder (0755, as mkdtemp makes it 0700: widened to look like a home), removed with the scope. */
export const tempFolder = Effect.acquireRelease(
  Effect.promise(async () => {
    const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-store-"))
    await Fs.chmod(dir, 0o755)
    return dir
  }),
  (dir) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
)

export const nodeFiles = Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer)

/** The store service over `path`, with the given options. */
export const storeAt = (path: string, options: Omit<TokenStore.FileSystemOptions, "path"> = {}) =>
  Effect.provide(TokenStore.TokenStore, TokenStore.layerFileSystem({ path, ...options }).pipe(Layer.provide(nodeFiles)))

/**
 * A valid (version 1) store file's text holding `grant(n)` under `key`, as another user could write
 * it; `fresh` makes its access token good for another hour, so a store that trusted it would use it.
 */
export const storeText = (n: number, fresh = false) => {
  const planted = fresh
    ? new Grant.Grant({
      ...grant(n),
      expiresAt: DateTime.unsafeMake(Date.now() + 3_600_000),
      refreshUntil: Option.none()
    })
    : grant(n)
  return JSON.stringify({
    format: "vedauth-token-store",
    version: 1,
    grants: { [TokenStore.keyString(key)]: Schema.encodeSync(Grant.Grant)(planted) }
  })
}
