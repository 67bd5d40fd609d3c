/**
 * Where grants are kept between calls and between runs, by key (server, client_id, scope, user),
 * with a lock so that a refresh is single-flight across processes too.
 *
 * @since 0.1.0
 */
import type { Effect, Option } from "effect"
import { Context } from "effect"
import type { Grant } from "./Grant.js"
import type { TokenStoreError } from "./VedAuthError.js"

/**
 * What a grant is stored under. One store holds grants for many servers, clients, scopes and users.
 *
 * @since 0.1.0
 * @category models
 */
export interface Key {
  readonly server: string
  readonly clientId: string
  readonly scope: string
  readonly user: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Service {
  readonly get: (key: Key) => Effect.Effect<Option.Option<Grant>, TokenStoreError>
  readonly set: (key: Key, grant: Grant) => Effect.Effect<void, TokenStoreError>
  readonly remove: (key: Key) => Effect.Effect<void, TokenStoreError>
  /**
   * Runs `effect` while holding the key's lock: no other fiber, and for persistent stores no other
   * process, holds it at the same time. Used around refresh and re-authorize.
   */
  readonly withLock: <A, E, R>(key: Key, effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | TokenStoreError, R>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class TokenStore extends Context.Tag("@vedauth/core/TokenStore")<TokenStore, Service>() {}

/**
 * The text a key is stored under.
 *
 * @since 0.1.0
 * @category keys
 */
export const keyString = (key: Key): string =>
  JSON.stringify([key.server.toLowerCase().replace(/\/+$/, ""), key.clientId, key.scope, key.user.toLowerCase()])
