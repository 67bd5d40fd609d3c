/**
 * A private KCM credential cache server for tests: Debian's `sssd_kcm` (package sssd-kcm), as RHEL
 * and Fedora keep `kinit`'s tickets (`default_ccache_name = KCM:`), never the package's service.
 *
 * sssd_kcm takes no option for its files: it reads its configuration from
 * /var/lib/sss/db/config.ldb (which `sssd -c FILE --genconf-section=kcm` writes from an sssd.conf
 * naming the socket) and keeps the caches in /var/lib/sss/secrets/secrets.ldb. So it runs in a mount
 * namespace of its own (`unshare --mount`, as root) with this folder's db, secrets and conf.d bound
 * over those paths, in a session of its own (a process group that is cleaned up would take it down).
 * MIT clients reach it through `[libdefaults] kcm_socket = <socket>` and `KRB5CCNAME=KCM:`.
 */
import { spawn } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { stopProcess } from "./loopback.js"

const START_WAIT_MS = 20_000

export interface Kcm {
  readonly dir: string
  /** The Unix socket MIT's `kcm_socket` names. */
  readonly socket: string
  /** `krb5Conf` (a krb5.conf's text) with its caches in this KCM: `kcm_socket` and `default_ccache_name = KCM:`. */
  readonly withKcm: (krb5Conf: string) => string
  readonly stop: () => Promise<void>
}

const accepts = (socket: string) =>
  new Promise<boolean>((resolve) => {
    const connection = Net.connect(socket, () => {
      connection.destroy()
      resolve(true)
    })
    connection.on("error", () => resolve(false))
  })

const shellQuote = (text: string) => `'${text.replaceAll("'", "'\\''")}'`

/** Starts sssd_kcm on a socket in a temp folder of its own; `stop` ends it and removes the folder. */
export const startKcm = async (): Promise<Kcm> => {
  if (process.getuid?.() !== 0) {
    throw new Error("sssd_kcm runs in a mount namespace of its own, which needs root (unshare --mount)")
  }
  const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-kcm-"))
  for (const sub of ["db", "secrets", "conf.d"]) await Fs.mkdir(Path.join(dir, sub))
  const socket = Path.join(dir, "kcm.socket")
  const conf = Path.join(dir, "sssd.conf")
  // sssd refuses a configuration file others can read.
  await Fs.writeFile(
    conf,
    ["[sssd]", "services = kcm", "[kcm]", `socket_path = ${socket}`, "responder_idle_timeout = 0", ""].join("\n"),
    { mode: 0o600 }
  )
  const binds = [["db", "/var/lib/sss/db"], ["secrets", "/var/lib/sss/secrets"], ["conf.d", "/etc/sssd/conf.d"]]
    .map(([from, to]) => `mount --bind ${shellQuote(Path.join(dir, from!))} ${to}`)
  const script = [
    ...binds,
    `sssd -c ${shellQuote(conf)} --genconf-section=kcm`,
    "exec /usr/libexec/sssd/sssd_kcm --uid 0 --gid 0 --logger=stderr"
  ].join(" && ")
  // detached: a session of its own. The shell execs sssd_kcm, so the child's pid is sssd_kcm's.
  const child = spawn("unshare", ["--mount", "--propagation", "private", "sh", "-c", script], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"]
  })
  let log = ""
  child.stderr.on("data", (chunk) => (log = (log + String(chunk)).slice(-8000)))
  child.once("error", (error) => (log += `cannot run unshare: ${error.message}`))
  const stop = async () => {
    await stopProcess(child)
    await Fs.rm(dir, { recursive: true, force: true })
  }
  for (let waited = 0; !(await accepts(socket)); waited += 25) {
    if (child.exitCode !== null || child.pid === undefined || waited >= START_WAIT_MS) {
      await stop()
      throw new Error(`sssd_kcm did not accept on ${socket} (exit ${child.exitCode}): ${log}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return {
    dir,
    socket,
    withKcm: (krb5Conf) =>
      krb5Conf.split("\n").filter((line) => !/^\s*(default_ccache_name|kcm_socket)\s*=/.test(line)).join("\n")
        .replace("[libdefaults]\n", `[libdefaults]\n  kcm_socket = ${socket}\n  default_ccache_name = KCM:\n`),
    stop
  }
}
