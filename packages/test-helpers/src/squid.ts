/**
 * A real HTTP proxy for the tests: Debian's squid (scripts/system-deps.sh), run privately in the
 * foreground on a free loopback port with a config, logs and pid file in a temp folder of its own
 * (never the package's service). It allows CONNECT to loopback on any port, for loopback clients
 * only; with `basic`, only after Basic authentication against an htpasswd file made here; with
 * `negotiate`, only after Kerberos (`negotiate_kerberos_auth`, given the proxy's keytab through
 * KRB5_KTNAME and the realm's krb5.conf through KRB5_CONFIG, both copied into squid's folder).
 */
import { Effect, Schedule } from "effect"
import { execFileSync, spawn } from "node:child_process"
import {
  chmodSync,
  chownSync,
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { connect } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { freePort } from "./loopback.js"

export interface AccessLine {
  readonly method: string
  readonly url: string
  /** `-` when the request carried no proxy credentials. */
  readonly user: string
  /** Squid's result code and HTTP status, e.g. `TCP_TUNNEL/200`. */
  readonly result: string
}

export interface Squid {
  readonly port: number
  /** `http://[user:password@]127.0.0.1:port`, or `http://localhost:port` with `host` (a name, as Kerberos' SPN needs). */
  readonly url: (credentials?: { readonly user: string; readonly password: string }, host?: string) => string
  /**
   * Stops squid (SIGINT; it then closes every tunnel) and returns its access log. Squid writes a
   * CONNECT's line when its tunnel closes, so the log is only complete once it has stopped.
   */
  readonly stop: Effect.Effect<ReadonlyArray<AccessLine>>
}

export interface SquidOptions {
  /** Require Basic authentication with this user and password. */
  readonly basic?: { readonly user: string; readonly password: string }
  /** Require Negotiate (Kerberos): the keytab holding `HTTP/<proxy host>`, and the realm's krb5.conf. */
  readonly negotiate?: { readonly keytab: string; readonly krb5Conf: string }
}

type Auth = "none" | "basic" | "negotiate"

const authConfig = (dir: string, auth: Auth): ReadonlyArray<string> => {
  if (auth === "none") return ["http_access allow localhost"]
  return [
    ...(auth === "basic"
      ? [
        `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/htpasswd`,
        "auth_param basic realm vedauth-test"
      ]
      // Any service principal of the keytab (GSS_C_NO_NAME): the client chooses HTTP/<proxy host>.
      : [
        "auth_param negotiate program /usr/lib/squid/negotiate_kerberos_auth -s GSS_C_NO_NAME",
        "auth_param negotiate children 2",
        "auth_param negotiate keep_alive on"
      ]),
    "acl authenticated proxy_auth REQUIRED",
    // CONNECT to loopback on any port (the default config allows 443 only), for loopback clients.
    "http_access deny !localhost",
    "http_access allow authenticated"
  ]
}

const config = (dir: string, port: number, auth: Auth) =>
  [
    `http_port 127.0.0.1:${port}`,
    `pid_filename ${dir}/squid.pid`,
    `access_log stdio:${dir}/access.log`,
    `cache_log ${dir}/cache.log`,
    "cache_store_log none",
    "cache deny all",
    `coredump_dir ${dir}`,
    "pinger_enable off",
    "shutdown_lifetime 0 seconds",
    "visible_hostname vedauth-test",
    ...authConfig(dir, auth),
    "http_access deny all"
  ].join("\n") + "\n"

const parseLog = (text: string): ReadonlyArray<AccessLine> =>
  text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    const fields = line.trim().split(/\s+/)
    return { result: fields[3] ?? "", method: fields[5] ?? "", url: fields[6] ?? "", user: fields[7] ?? "" }
  })

// Up to ~10 s for squid to listen: each try is a real connection attempt.
const ready = (port: number) =>
  Effect.retry(
    Effect.async<void, Error>((resume) => {
      const socket = connect(port, "127.0.0.1")
      socket.once("connect", () => (socket.destroy(), resume(Effect.void)))
      socket.once("error", (error) => resume(Effect.fail(error)))
    }),
    Schedule.intersect(Schedule.spaced("25 millis"), Schedule.recurs(400))
  ).pipe(Effect.orDie)

/** Starts squid for the scope; it is stopped (if `stop` was not run) and its folder removed when the scope closes. */
export const squid = (options: SquidOptions = {}) =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "vedauth-squid-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const port = yield* freePort
    const basic = options.basic
    if (basic !== undefined) {
      const hash = execFileSync("openssl", ["passwd", "-apr1", "-stdin"], {
        input: `${basic.password}\n`,
        encoding: "utf8"
      }).trim()
      writeFileSync(join(dir, "htpasswd"), `${basic.user}:${hash}\n`)
    }
    const negotiate = options.negotiate
    if (negotiate !== undefined) {
      copyFileSync(negotiate.keytab, join(dir, "proxy.keytab"))
      copyFileSync(negotiate.krb5Conf, join(dir, "krb5.conf"))
    }
    writeFileSync(
      join(dir, "squid.conf"),
      config(dir, port, basic !== undefined ? "basic" : negotiate !== undefined ? "negotiate" : "none")
    )
    // Started as root, squid runs as `proxy`: its folder and files must be its own.
    chmodSync(dir, 0o755)
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync("id", ["-u", "proxy"], { encoding: "utf8" }).trim())
      for (const name of ["", ...readdirSync(dir)]) chownSync(join(dir, name), uid, -1)
    }
    // Squid's helpers inherit its environment: the keytab and the realm for negotiate_kerberos_auth.
    const env = negotiate === undefined
      ? process.env
      : { ...process.env, KRB5_KTNAME: `FILE:${dir}/proxy.keytab`, KRB5_CONFIG: `${dir}/krb5.conf` }
    const child = spawn("squid", ["-N", "-f", join(dir, "squid.conf")], { stdio: "ignore", env })
    const stopped = Effect.async<void>((resume) => {
      if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
      child.once("exit", () => resume(Effect.void))
      child.kill("SIGINT")
    })
    yield* Effect.addFinalizer(() => stopped)
    yield* ready(port)
    const readLog = Effect.sync(() => {
      try {
        return parseLog(readFileSync(join(dir, "access.log"), "utf8"))
      } catch {
        return []
      }
    })
    const started: Squid = {
      port,
      url: (credentials, host = "127.0.0.1") =>
        credentials === undefined
          ? `http://${host}:${port}`
          : `http://${encodeURIComponent(credentials.user)}:${
            encodeURIComponent(credentials.password)
          }@${host}:${port}`,
      stop: Effect.zipRight(stopped, readLog)
    }
    return started
  })
