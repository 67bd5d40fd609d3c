/**
 * The platform-node tests' throwaway MIT realm (`packages/platform-node/test/kerberos/mitRealm.ts`),
 * reused as it is. It is loaded by its URL because this package's TypeScript project does not
 * reach into another package's tests; the part used here is typed below.
 */
export interface MitRealm {
  readonly realm: string
  readonly dir: string
  /** KRB5_CONFIG (its KDC on loopback) and KRB5_KDC_PROFILE. */
  readonly env: NodeJS.ProcessEnv
  readonly kadmin: (query: string) => Promise<string>
  readonly keytab: (principal: string, file: string, options?: { readonly keepKeys?: boolean }) => Promise<string>
  readonly kinit: (user: { readonly name: string; readonly password: string }, cache: string) => Promise<string>
  readonly stop: () => Promise<void>
}

interface MitRealmModule {
  readonly REALM: string
  readonly SPN: string
  readonly startRealm: (users: ReadonlyArray<{ readonly name: string; readonly password: string }>) => Promise<MitRealm>
}

const location = new URL("../../../platform-node/test/kerberos/mitRealm.ts", import.meta.url).href

/** Loads the helper (see above). */
export const loadMitRealm = (): Promise<MitRealmModule> => import(/* @vite-ignore */ location) as Promise<MitRealmModule>
