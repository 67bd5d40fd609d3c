/**
 * The hardened file operations of `TokenStore.Live` on `node:fs`: no symbolic link followed, only
 * regular files read (a FIFO or `/dev/zero` is refused, not waited on), owner and mode from `fstat`,
 * files created exclusively with mode 0600 set through the descriptor. Deno and Bun use it too,
 * through their Node compatibility. `NodeVedAuth.layer` provides it.
 *
 * ```ts
 * TokenStore.Live.pipe(Layer.provide(Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer)))
 * ```
 *
 * @since 0.2.0
 */
import { TokenStoreFiles } from "@vedauth/core/TokenStoreFiles"
import { Layer } from "effect"
import { make } from "./internal/tokenStoreFiles.js"

/**
 * @since 0.2.0
 * @category layers
 */
export const layer: Layer.Layer<TokenStoreFiles> = Layer.sync(TokenStoreFiles, make)
