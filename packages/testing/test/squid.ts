/**
 * A real HTTP proxy for the tests: Debian's squid (scripts/system-deps.sh), run privately in the
 * foreground on a free loopback port with a config, logs and pid file in a temp folder of its own
 * (never the package's service). It allows CONNECT to loopback on any port, for loopback clients
 * only; with `basic`, only after Basic authentication against an htpasswd file made here.
 */
import { Effect, Schedule } from "effect"
import { execFileSync, spawn } from "node:child_process"
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
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
  /** `http://[user:password@]127.0.0.1:port` */
  readonly url: (credentials?: { readonly user: string; readonly password: string }) => string
  /**
   * Stops squid (SIGINT; it then closes every tunnel) and returns its access log. Squid writes a
   * CONNECT's line when its tunnel closes, so the log is only complete once it has stopped.
   */
  readonly stop: Effect.Effect<ReadonlyArray<AccessLine>>
}

export interface SquidOptions {
  /** Require Basic authentication with this user and password. */
  readonly basic?: { readonly user: string; readonly password: string }
}

const config = (dir: string, port: number, basic: boolean) =>
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
    ...(basic
      ? [
        `auth_param basic program /usr/lib/squid/basic_ncsa_auth ${dir}/htpasswd`,
        "auth_param basic realm vedauth-test",
        "acl authenticated proxy_auth REQUIRED",
        // CONNECT to loopback on any port (the default config allows 443 only), for loopback clients.
        "http_access deny !localhost",
        "http_access allow authenticated"
      ]
      : ["http_access allow localhost"]),
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
      const hash = execFileSync("openssl", ["passwd", "-apr1", "-stdin"], { input: `${basic.password}\n`, encoding: "utf8" }).trim()
      writeFileSync(join(dir, "htpasswd"), `${basic.user}:${hash}\n`)
    }
    writeFileSync(join(dir, "squid.conf"), config(dir, port, basic !== undefined))
    // Started as root, squid runs as `proxy`: its folder and files must be its own.
    chmodSync(dir, 0o755)
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync("id", ["-u", "proxy"], { encoding: "utf8" }).trim())
      for (const name of ["", ...readdirSync(dir)]) chownSync(join(dir, name), uid, -1)
    }
    const child = spawn("squid", ["-N", "-f", join(dir, "squid.conf")], { stdio: "ignore" })
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
      url: (credentials) =>
        credentials === undefined
          ? `http://127.0.0.1:${port}`
          : `http://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}`,
      stop: Effect.zipRight(stopped, readLog)
    }
    return started
  })
