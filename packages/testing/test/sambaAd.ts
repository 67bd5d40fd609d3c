/**
 * A throwaway Active Directory for interop tests: Samba's AD DC (Debian's samba packages,
 * scripts/system-deps.sh) as an independent KDC and NTLM authority on loopback, never the packages'
 * services.
 *
 * The domain CORP.TEST (NetBIOS CORP) is provisioned offline once per test run (about 10 s), with
 * its accounts and the service's exported keytab (sambaAd.py), into the run's folder that
 * sambaAdGlobal.ts provides; the first file that needs it provisions under a lock, later ones wait
 * for it. Each file then copies it (33 MB, well under a second) and runs its own `samba -M single`
 * with only the `kdc` and `winbindd` services on 127.0.0.1 and free ports, so the files share no
 * state and stop their own DC.
 */
import type * as VedAuth from "@vedauth/core/VedAuth"
import { NodeVedAuth } from "@vedauth/platform-node"
import { freePort, stopProcess } from "@vedauth/test-helpers/loopback"
import { Effect, Redacted } from "effect"
import { type ChildProcess, execFile, spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { promisify } from "node:util"
import { inject } from "vitest"
import * as Simulator from "../src/Simulator.js"

const run = promisify(execFile)

export const REALM = "CORP.TEST"
export const DOMAIN = "CORP"
/** Every user's password (AD's complexity rules want three classes of characters). */
export const PASSWORD = "Alice-Pass-1!"
/** The service account TPP would run as, its SPN (AES keys only) and the keytab exported for it. */
export const SERVICE = { account: "svc-tpp", spn: "HTTP/localhost" } as const
/** A service account with msDS-SupportedEncryptionTypes unset: AD issues RC4 tickets for it. */
export const LEGACY_SERVICE = { account: "svc-legacy", spn: "HTTP/legacy.corp.test" } as const

/** The accounts sambaAd.py creates, by what their state is. */
export const USERS = {
  alice: "alice",
  disabled: "dora",
  expired: "eve",
  mustChange: "mike",
  rc4Only: "rita"
} as const

// Python's samba bindings are Debian's, for Debian's interpreter (not a pyenv one first on PATH).
const PYTHON = "/usr/bin/python3"
const SCRIPT = Path.join(import.meta.dirname, "sambaAd.py")
const LOCK_WAIT_MS = 180_000
const START_WAIT_MS = 20_000

export interface SambaAd {
  readonly realm: string
  readonly dir: string
  readonly kdc: { readonly host: string; readonly port: number }
  /** `127.0.0.1:port`, as the Kerberos options take it. */
  readonly kdcAddress: string
  /** The service's keytab as `samba-tool domain exportkeytab` writes it. */
  readonly serviceKeytab: string
  /** KRB5_CONFIG (a private krb5.conf naming this KDC) for MIT tools. */
  readonly env: NodeJS.ProcessEnv
  /** The environment under which libwbclient (ntlm_auth) finds this DC's winbindd. */
  readonly winbindEnv: NodeJS.ProcessEnv
  readonly smbConf: string
  /** MIT `kinit` into a FILE: cache in the folder; returns its path. */
  readonly kinit: (principal: string, password: string, cache: string) => Promise<string>
  /** The DC's logs (with `auth_audit:3`, one line per authentication). */
  readonly logs: () => Promise<string>
  /** How long provisioning took in this run, and this DC's start. */
  readonly timings: { readonly provisionMs: number; readonly startMs: number }
  readonly stop: () => Promise<void>
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const exists = (path: string) => Fs.access(path).then(() => true, () => false)

// Every path the DC writes inside `dir`; only the KDC and winbindd listen, on 127.0.0.1.
const smbConf = (dir: string, ports: { readonly krb5: number; readonly kpasswd: number }) =>
  [
    "[global]",
    "  netbios name = DC1",
    `  realm = ${REALM}`,
    `  workgroup = ${DOMAIN}`,
    "  server role = active directory domain controller",
    "  server services = kdc, winbindd",
    "  interfaces = 127.0.0.1",
    "  bind interfaces only = yes",
    `  krb5 port = ${ports.krb5}`,
    `  kpasswd port = ${ports.kpasswd}`,
    `  binddns dir = ${dir}/bind-dns`,
    `  cache directory = ${dir}/cache`,
    `  lock directory = ${dir}/lock`,
    `  state directory = ${dir}/state`,
    `  private dir = ${dir}/private`,
    `  pid directory = ${dir}/pid`,
    `  ncalrpc dir = ${dir}/ncalrpc`,
    `  winbindd socket directory = ${dir}/winbindd`,
    `  log file = ${dir}/logs/log.%m`,
    "  log level = 1 auth_audit:3",
    "  idmap_ldb:use rfc2307 = yes",
    ""
  ].join("\n")

const writeConf = async (dir: string, ports: { readonly krb5: number; readonly kpasswd: number }) => {
  for (const sub of ["cache", "lock", "state", "pid", "ncalrpc", "winbindd", "logs", "etc"]) {
    await Fs.mkdir(Path.join(dir, sub), { recursive: true })
  }
  const path = Path.join(dir, "etc", "test.conf")
  await Fs.writeFile(path, smbConf(dir, ports))
  return path
}

const randomPassword = () =>
  `Svc-${Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("")}-9!`

/** Runs `command` (an MIT tool, python) with `input` on stdin; rejects with its output on a non-zero exit. */
export const runWithInput = (
  command: string,
  args: ReadonlyArray<string>,
  input: string,
  env: NodeJS.ProcessEnv = process.env
) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk) => (output += String(chunk)))
    child.stderr.on("data", (chunk) => (output += String(chunk)))
    child.on("error", reject)
    child.on(
      "exit",
      (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${output.slice(-4000)}`)))
    )
    child.stdin.on("error", () => {})
    child.stdin.end(input)
  })

// Provisions CORP.TEST into `template` (a folder that does not exist yet).
const provision = async (template: string) => {
  const started = Date.now()
  const partial = `${template}.partial`
  await Fs.rm(partial, { recursive: true, force: true })
  await Fs.mkdir(partial, { recursive: true })
  await run("samba-tool", [
    "domain",
    "provision",
    `--targetdir=${partial}`,
    `--realm=${REALM}`,
    `--domain=${DOMAIN}`,
    "--server-role=dc",
    "--dns-backend=NONE",
    "--use-rfc2307",
    `--adminpass=${randomPassword()}`,
    "--host-name=dc1",
    "--host-ip=127.0.0.1",
    "--option=interfaces = 127.0.0.1",
    "--option=bind interfaces only = yes"
  ], { maxBuffer: 16 * 1024 * 1024 })
  const conf = await writeConf(partial, { krb5: 0, kpasswd: 0 })
  await runWithInput(
    PYTHON,
    [SCRIPT],
    JSON.stringify({
      conf,
      keytab: Path.join(partial, "http.keytab"),
      password: PASSWORD,
      service: { ...SERVICE, password: randomPassword() },
      legacy: { ...LEGACY_SERVICE, password: randomPassword() }
    })
  )
  await Fs.writeFile(Path.join(partial, "provision-ms"), String(Date.now() - started))
  await Fs.rename(partial, template)
}

// The run's provisioned domain: made by the first caller (an exclusive lock file), awaited by the others.
const provisioned = async (root: string) => {
  const template = Path.join(root, "template")
  const failed = Path.join(root, "failed")
  const lock = await Fs.open(Path.join(root, "lock"), "wx").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "EEXIST") return undefined
    throw error
  })
  if (lock !== undefined) {
    await lock.close()
    await provision(template).catch(async (error: unknown) => {
      await Fs.writeFile(failed, String(error))
      throw error
    })
    return template
  }
  for (let waited = 0; waited < LOCK_WAIT_MS; waited += 100) {
    if (await exists(template)) return template
    if (await exists(failed)) {
      throw new Error(`provisioning Samba AD failed in another test file: ${await Fs.readFile(failed, "utf8")}`)
    }
    await pause(100)
  }
  throw new Error(`Samba AD was not provisioned within ${LOCK_WAIT_MS / 1000} s (lock ${root}/lock)`)
}

const waitUntil = async (
  what: string,
  ready: () => Promise<boolean>,
  samba: ChildProcess,
  logs: () => Promise<string>
) => {
  for (let waited = 0; waited < START_WAIT_MS; waited += 25) {
    if (samba.exitCode !== null || samba.signalCode !== null || samba.pid === undefined) {
      throw new Error(`samba exited (${samba.exitCode ?? samba.signalCode}) before ${what}: ${await logs()}`)
    }
    if (await ready()) return
    await pause(25)
  }
  throw new Error(`samba: no ${what} after ${START_WAIT_MS / 1000} s: ${await logs()}`)
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = Net.connect({ host: "127.0.0.1", port }, () => {
      socket.destroy()
      resolve(true)
    })
    socket.on("error", () => resolve(false))
  })

/**
 * Starts this file's DC from the run's provisioned domain (provisioning it first if no file has).
 * Outside the testing project (no global setup) the domain is provisioned for this DC alone.
 */
export const startSambaAd = async (): Promise<SambaAd> => {
  const shared = inject("sambaAdCache") as string | undefined
  const root = shared ?? (await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-samba-ad-own-")))
  const template = await provisioned(root)
  const provisionMs = Number(await Fs.readFile(Path.join(template, "provision-ms"), "utf8"))
  const started = Date.now()
  const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-samba-ad-"))
  await Fs.cp(template, dir, { recursive: true })
  const ports = { krb5: await Effect.runPromise(freePort), kpasswd: await Effect.runPromise(freePort) }
  const conf = await writeConf(dir, ports)
  await Fs.writeFile(Path.join(dir, "krb5.conf"), Simulator.krb5Conf(`127.0.0.1:${ports.krb5}`, { realm: REALM }))
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    KRB5_CONFIG: Path.join(dir, "krb5.conf"),
    KRB5CCNAME: `FILE:${dir}/default.ccache`
  }
  const winbindEnv: NodeJS.ProcessEnv = {
    ...process.env,
    LD_PRELOAD: "libnss_wrapper.so",
    NSS_WRAPPER_PASSWD: "/etc/passwd",
    NSS_WRAPPER_GROUP: "/etc/group",
    SELFTEST_WINBINDD_SOCKET_DIR: Path.join(dir, "winbindd")
  }
  const logs = async () => {
    const names = await Fs.readdir(Path.join(dir, "logs")).catch(() => [])
    const texts = await Promise.all(
      names.map((name) => Fs.readFile(Path.join(dir, "logs", name), "utf8").catch(() => ""))
    )
    return texts.join("\n")
  }
  // In the foreground (-F), so that this process is its parent and reaps it.
  const samba = spawn("samba", ["-F", "-M", "single", "-s", conf], { stdio: "ignore" })
  let spawnError: Error | undefined
  samba.once("error", (error) => (spawnError = error))
  const stop = async () => {
    await stopProcess(samba)
    await Fs.rm(dir, { recursive: true, force: true })
    if (shared === undefined) await Fs.rm(root, { recursive: true, force: true })
  }
  try {
    const logsOrError = async () =>
      spawnError === undefined ? logs() : `cannot run samba (scripts/system-deps.sh installs it): ${spawnError.message}`
    await waitUntil("KDC listening", () => listening(ports.krb5), samba, logsOrError)
    await waitUntil("winbindd socket", () => exists(Path.join(dir, "winbindd", "pipe")), samba, logsOrError)
  } catch (error) {
    await stop()
    throw error
  }
  return {
    realm: REALM,
    dir,
    kdc: { host: "127.0.0.1", port: ports.krb5 },
    kdcAddress: `127.0.0.1:${ports.krb5}`,
    serviceKeytab: Path.join(dir, "http.keytab"),
    env,
    winbindEnv,
    smbConf: conf,
    kinit: async (principal, password, cache) => {
      const path = Path.join(dir, cache)
      await runWithInput("kinit", [principal], `${password}\n`, { ...env, KRB5CCNAME: `FILE:${path}` })
      return path
    },
    logs,
    timings: { provisionMs, startMs: Date.now() - started },
    stop
  }
}

/** How a test logs in at the simulator as TPP in CORP.TEST. */
export interface Login {
  readonly username?: string
  readonly password?: string
  readonly mechanism?: VedAuth.Mechanism
  readonly kerberos: VedAuth.KerberosOptions
}

/**
 * `NodeVedAuth` at the simulator served on `url`, through `localhost`: the SPN is then
 * HTTP/localhost, which the service account has (`SERVICE`).
 */
export const vedAuthAt = (url: string, tokenStorePath: string, login: Login) =>
  NodeVedAuth.layer({
    url: url.replace("127.0.0.1", "localhost"),
    clientId: Simulator.defaultClientId,
    scope: "certificate:manage",
    mechanism: login.mechanism ?? "kerberos",
    kerberos: login.kerberos,
    ...(login.username === undefined ? {} : { username: login.username }),
    ...(login.password === undefined ? {} : { password: Redacted.make(login.password) }),
    tokenStorePath
  })
