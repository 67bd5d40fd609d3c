/**
 * A throwaway MIT Kerberos realm on loopback for interop tests (and, in part 2, the simulator's):
 * `kdb5_util`, `kadmin.local` and `krb5kdc -n` from Debian's krb5-kdc / krb5-admin-server, with every
 * file (krb5.conf, kdc.conf, database, keytabs, caches) in a temp folder of its own and the KDC on
 * a free 127.0.0.1 port. Starts in well under a second; one realm per test file.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

export const REALM = "VEDAUTH.TEST"
export const SERVICE_HOST = "tpp.vedauth.test"
export const SPN = `HTTP/${SERVICE_HOST}`
const DEFAULT_REALM = REALM
const DEFAULT_SPN = SPN

/** A user and password, with pre-authentication required (the default on Active Directory). */
export interface User {
  readonly name: string
  readonly password: string
}

export interface Realm {
  readonly realm: string
  readonly dir: string
  readonly kdc: { readonly host: string; readonly port: number }
  /** KRB5_CONFIG and KRB5_KDC_PROFILE pointing into the folder, for MIT tools and python3-gssapi. */
  readonly env: NodeJS.ProcessEnv
  /** Runs a kadmin.local query (`addprinc ...`, `ktadd ...`). */
  readonly kadmin: (query: string) => Promise<string>
  /** Writes a keytab with the principal's current keys (randomised first unless `keepKeys`). */
  readonly keytab: (principal: string, file: string, options?: { readonly keepKeys?: boolean }) => Promise<string>
  /** `kinit` into a FILE: ccache in the folder; returns its path. */
  readonly kinit: (user: User, cache: string) => Promise<string>
  /** The KDC's log (what it issued, with enctypes). */
  readonly kdcLog: () => Promise<string>
  readonly stop: () => Promise<void>
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = Net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })

const waitForPort = async (port: number, kdc: ChildProcess, log: () => Promise<string>) => {
  for (let attempt = 0; attempt < 200; attempt++) {
    if (kdc.exitCode !== null) throw new Error(`krb5kdc exited with ${kdc.exitCode}: ${await log()}`)
    const open = await new Promise<boolean>((resolve) => {
      const socket = Net.connect({ host: "127.0.0.1", port }, () => {
        socket.destroy()
        resolve(true)
      })
      socket.on("error", () => resolve(false))
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error(`krb5kdc did not listen on ${port}: ${await log()}`)
}

/** krb5.conf's `[libdefaults]` for loopback tests: no DNS, TCP only. */
const libdefaults = (realm: string) => [
  "[libdefaults]",
  `  default_realm = ${realm}`,
  "  dns_lookup_kdc = false",
  "  dns_lookup_realm = false",
  "  rdns = false",
  "  dns_canonicalize_hostname = false",
  "  udp_preference_limit = 1"
]

/** What differs between the realms of a test (all optional: one realm is `REALM` with `SPN`). */
export interface RealmOptions {
  readonly realm?: string
  /** The service principal to create; `null` for none. */
  readonly spn?: string | null
  /** The `[domain_realm]` domain of the realm's own krb5.conf (`.vedauth.test`). */
  readonly domain?: string
  /** More of the KDC's profile (kdc.conf): a `[domain_realm]` there makes MIT's KDC refer a host elsewhere. */
  readonly kdcProfile?: string
}

/** Starts a realm with `users` (pre-authentication required) and the service principal `SPN`. */
export const startRealm = async (users: ReadonlyArray<User>, options: RealmOptions = {}): Promise<Realm> => {
  const REALM = options.realm ?? DEFAULT_REALM
  const SPN = options.spn === undefined ? DEFAULT_SPN : options.spn
  const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-krb5-"))
  const port = await freePort()
  const enctypes =
    "aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal"
  await Fs.writeFile(
    Path.join(dir, "krb5.conf"),
    [
      ...libdefaults(REALM),
      `  default_ccache_name = FILE:${dir}/default.ccache`,
      "[realms]",
      `  ${REALM} = {`,
      `    kdc = 127.0.0.1:${port}`,
      "  }",
      "[domain_realm]",
      `  ${options.domain ?? ".vedauth.test"} = ${REALM}`,
      ""
    ].join("\n")
  )
  await Fs.writeFile(
    Path.join(dir, "kdc.conf"),
    [
      "[kdcdefaults]",
      `  kdc_listen = 127.0.0.1:${port}`,
      `  kdc_tcp_listen = 127.0.0.1:${port}`,
      "[realms]",
      `  ${REALM} = {`,
      `    database_name = ${dir}/principal`,
      `    key_stash_file = ${dir}/stash`,
      `    acl_file = ${dir}/kadm5.acl`,
      `    supported_enctypes = ${enctypes}`,
      "  }",
      "[logging]",
      `  kdc = FILE:${dir}/kdc.log`,
      options.kdcProfile ?? "",
      ""
    ].join("\n")
  )
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KRB5_CONFIG: Path.join(dir, "krb5.conf"),
    KRB5_KDC_PROFILE: Path.join(dir, "kdc.conf"),
    KRB5CCNAME: `FILE:${dir}/default.ccache`
  }
  const kadmin = async (query: string) => (await run("kadmin.local", ["-r", REALM, "-q", query], { env })).stdout
  await run("kdb5_util", ["create", "-s", "-r", REALM, "-P", "vedauth-master-key"], { env })
  for (const user of users) await kadmin(`addprinc +requires_preauth -pw ${user.password} ${user.name}`)
  if (SPN !== null) await kadmin(`addprinc -randkey ${SPN}`)
  const kdc = spawn("krb5kdc", ["-n", "-r", REALM], { env, stdio: "ignore" })
  const log = () => Fs.readFile(Path.join(dir, "kdc.log"), "utf8").catch(() => "")
  await waitForPort(port, kdc, log)
  return {
    realm: REALM,
    dir,
    kdc: { host: "127.0.0.1", port },
    env,
    kadmin,
    keytab: async (principal, file, options = {}) => {
      const path = Path.join(dir, file)
      await kadmin(`ktadd ${options.keepKeys === true ? "-norandkey " : ""}-k ${path} ${principal}`)
      return path
    },
    kinit: async (user, cache) => {
      const path = Path.join(dir, cache)
      await new Promise<void>((resolve, reject) => {
        const child = spawn("kinit", [user.name], {
          env: { ...env, KRB5CCNAME: `FILE:${path}` },
          stdio: ["pipe", "ignore", "pipe"]
        })
        let stderr = ""
        child.stderr.on("data", (chunk) => (stderr += String(chunk)))
        child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`kinit failed: ${stderr}`))))
        child.stdin.end(`${user.password}\n`)
      })
      return path
    },
    kdcLog: log,
    stop: async () => {
      kdc.kill("SIGTERM")
      await new Promise((resolve) => (kdc.exitCode !== null ? resolve(undefined) : kdc.once("exit", resolve)))
      await Fs.rm(dir, { recursive: true, force: true })
    }
  }
}

export const USERS_REALM = "USERS.TEST"
export const SERVICES_REALM = "SERVICES.TEST"
export const TRUST_HOST = "tpp.services.test"
export const TRUST_SPN = `HTTP/${TRUST_HOST}`

/** Two realms and a one-way trust: users of `USERS.TEST` get tickets for `SERVICES.TEST`'s services. */
export interface Trust {
  readonly users: Realm
  readonly services: Realm
  /**
   * A client's krb5.conf listing both realms' KDCs, with (`mapped`) or without (`referral`) a
   * `[domain_realm]` entry for the service's host: the first knows the service realm up front, the
   * second has to follow the KDC's referral.
   */
  readonly conf: { readonly mapped: string; readonly referral: string }
  /** Environments for MIT's tools (and vedauth through KRB5_CONFIG) with either krb5.conf. */
  readonly env: { readonly mapped: NodeJS.ProcessEnv; readonly referral: NodeJS.ProcessEnv }
  readonly stop: () => Promise<void>
}

/** Runs an MIT tool; resolves with stdout and stderr whatever its exit status. */
export const mitTool = (command: string, args: ReadonlyArray<string>, env: NodeJS.ProcessEnv) =>
  run(command, [...args], { env }).then(
    ({ stdout, stderr }) => ({ ok: true, stdout, stderr }),
    (e: { readonly stdout?: string; readonly stderr?: string }) => ({
      ok: false,
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? ""
    })
  )

/**
 * Starts `USERS.TEST` (with `users`) and `SERVICES.TEST` (with `TRUST_SPN`), each its own KDC, and the
 * cross-realm principal `krbtgt/SERVICES.TEST@USERS.TEST` in both with the same password (so the same
 * keys, salted alike). The users' KDC maps `.services.test` to `SERVICES.TEST` in its own profile:
 * MIT's KDC then answers a canonicalizing request for `HTTP/tpp.services.test` with a referral.
 */
export const startTrust = async (users: ReadonlyArray<User>): Promise<Trust> => {
  const mapping = `  .services.test = ${SERVICES_REALM}`
  const usersRealm = await startRealm(users, {
    realm: USERS_REALM,
    spn: null,
    domain: ".users.test",
    kdcProfile: `[domain_realm]\n${mapping}`
  })
  const servicesRealm = await startRealm([], { realm: SERVICES_REALM, spn: TRUST_SPN, domain: ".services.test" }).catch(
    async (e: unknown) => {
      await usersRealm.stop()
      throw e
    }
  )
  const trustPassword = "Trust-" + Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString("hex")
  const stop = async () => {
    await Promise.all([usersRealm.stop(), servicesRealm.stop()])
  }
  for (const realm of [usersRealm, servicesRealm]) {
    await realm.kadmin(`addprinc -pw ${trustPassword} krbtgt/${SERVICES_REALM}@${USERS_REALM}`).catch(
      async (e: unknown) => {
        await stop()
        throw e
      }
    )
  }
  const confText = (mapped: boolean) =>
    [
      ...libdefaults(USERS_REALM),
      "[realms]",
      ...[usersRealm, servicesRealm].flatMap((
        r
      ) => [`  ${r.realm} = {`, `    kdc = ${r.kdc.host}:${r.kdc.port}`, "  }"]),
      "[domain_realm]",
      `  .users.test = ${USERS_REALM}`,
      ...(mapped ? [mapping] : []),
      "[capaths]",
      `  ${USERS_REALM} = {`,
      `    ${SERVICES_REALM} = .`,
      "  }",
      ""
    ].join("\n")
  const mapped = Path.join(usersRealm.dir, "client-mapped.conf")
  const referral = Path.join(usersRealm.dir, "client-referral.conf")
  await Fs.writeFile(mapped, confText(true))
  await Fs.writeFile(referral, confText(false))
  const clientEnv = (conf: string): NodeJS.ProcessEnv => {
    const { KRB5_KDC_PROFILE: _profile, ...rest } = usersRealm.env
    return { ...rest, KRB5_CONFIG: conf }
  }
  return {
    users: usersRealm,
    services: servicesRealm,
    conf: { mapped, referral },
    env: { mapped: clientEnv(mapped), referral: clientEnv(referral) },
    stop
  }
}
