/**
 * A throwaway MIT Kerberos realm on loopback for interop tests (and, in part 2, the simulator's):
 * `kdb5_util`, `kadmin.local` and `krb5kdc -n` from Debian's krb5-kdc / krb5-admin-server, with every
 * file (krb5.conf, kdc.conf, database, keytabs, caches) in a temp folder of its own and the KDC on
 * a free 127.0.0.1 port. Starts in well under a second; one realm per test file.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

export const REALM = "VEDAUTH.TEST"
export const SERVICE_HOST = "tpp.vedauth.test"
export const SPN = `HTTP/${SERVICE_HOST}`

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

/** Starts a realm with `users` (pre-authentication required) and the service principal `SPN`. */
export const startRealm = async (users: ReadonlyArray<User>): Promise<Realm> => {
  const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-krb5-"))
  const port = await freePort()
  const enctypes = "aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal aes256-cts-hmac-sha384-192:normal aes128-cts-hmac-sha256-128:normal"
  await Fs.writeFile(
    Path.join(dir, "krb5.conf"),
    [
      "[libdefaults]",
      `  default_realm = ${REALM}`,
      "  dns_lookup_kdc = false",
      "  dns_lookup_realm = false",
      "  rdns = false",
      "  dns_canonicalize_hostname = false",
      "  udp_preference_limit = 1",
      `  default_ccache_name = FILE:${dir}/default.ccache`,
      "[realms]",
      `  ${REALM} = {`,
      `    kdc = 127.0.0.1:${port}`,
      "  }",
      "[domain_realm]",
      `  .vedauth.test = ${REALM}`,
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
  await kadmin(`addprinc -randkey ${SPN}`)
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
        const child = spawn("kinit", [user.name], { env: { ...env, KRB5CCNAME: `FILE:${path}` }, stdio: ["pipe", "ignore", "pipe"] })
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
