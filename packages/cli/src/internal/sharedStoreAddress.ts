/**
 * A token store given as a URL (`--store redis://...`, `VEDAUTH_TOKEN_STORE`) instead of a file: how
 * it is recognised, shown and where its profiles live. Plain code, no Effect: the lean `token` path
 * uses it to hand such a store to the full command line.
 * @internal
 */
import { storeUrlScheme } from "@vedauth/core/TokenStoreFormat"
import { profilesPath } from "./profiles.js"
import { type Env, storeLocation } from "./selection.js"

/**
 * A store URL as it may be shown (status, errors): the password replaced by `***`. Text that does
 * not parse is not shown at all, as it could be anything, a password included.
 * @internal
 */
export const shownStoreUrl = (store: string): string => {
  const scheme = storeUrlScheme(store) ?? "store"
  if (!URL.canParse(store)) return `${scheme}://(not a valid URL)`
  const url = new URL(store)
  if (url.password !== "") url.password = "***"
  return url.href
}

/**
 * True when a store URL carries a password (`redis://user:PASSWORD@host`). Text that does not parse
 * as a URL counts when anything before its first `/` after the scheme looks like `user:secret@`.
 * @internal
 */
export const storeUrlHasPassword = (store: string): boolean =>
  URL.canParse(store) ? new URL(store).password !== "" : /^[a-z][a-z0-9+.-]+:\/\/[^/]*:[^/]*@/i.test(store)

/**
 * Where the profiles are kept: beside a store file; for a store URL, in the local state folder,
 * where the default store file would be (`$XDG_STATE_HOME/vedauth`, else `~/.local/state/vedauth`,
 * else `%LOCALAPPDATA%\vedauth`).
 * A profile never names the store, so the URL and its password are never written to disk.
 * Undefined when a store URL is used and there is no local state folder.
 * @internal
 */
export const profilesFileOf = (store: string, env: Env): string | undefined => {
  if (storeUrlScheme(store) === undefined) return profilesPath(store)
  const local = storeLocation({}, { ...env, VEDAUTH_TOKEN_STORE: undefined })
  return local === undefined ? undefined : profilesPath(local.value)
}
