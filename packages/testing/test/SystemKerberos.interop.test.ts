/**
 * Interop, the system's tickets: MIT's `kinit` (Debian krb5-user) takes alice's TGT from the served
 * simulator's KDC into a credential cache of this test's own folder, and `NodeVedAuth` with
 * `kerberos: { system: true }` authorizes through the `kerberos` addon, that is MIT's GSS-API, with
 * no password anywhere. The addon runs in this process, so the test points MIT at its files through
 * this process's environment (`KRB5_CONFIG`, `KRB5CCNAME`, `KRB5_CLIENT_KTNAME`). The addon is
 * required (`pnpm kerberos-addon` builds it; `pnpm test:all` does first): when it is missing or
 * its build failed these tests fail, they do not skip.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import * as VedAuth from "@vedauth/core/VedAuth"
import type { KerberosError } from "@vedauth/core/VedAuthError"
import * as WindowsAuthHandshake from "@vedauth/core/WindowsAuthHandshake"
import * as NodeVedAuth from "@vedauth/platform-node/NodeVedAuth"
import { Effect, Logger, Redacted } from "effect"
import { spawn } from "node:child_process"
import { randomUUID } from "node:crypto"
import * as Fs from "node:fs/promises"
import { createRequire } from "node:module"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Simulator from "../src/Simulator.js"

const REALM = "CORP.EXAMPLE"
const alice = { name: "alice", password: "Passw0rd!" }
let dir: string
let http: Awaited<ReturnType<typeof Simulator.start>>
let https: Awaited<ReturnType<typeof Simulator.start>>
let httpsLoose: Awaited<ReturnType<typeof Simulator.start>>

/** Runs an MIT tool with this test's Kerberos environment, `input` on its stdin; fails on a non-zero exit. */
const mit = (command: string, args: ReadonlyArray<string>, input: string, env: NodeJS.ProcessEnv = process.env) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["pipe", "ignore", "pipe"] })
    let stderr = ""
    child.stderr.on("data", (chunk) => (stderr += String(chunk)))
    child.on("error", reject)
    child.on(
      "exit",
      (code) => (code === 0 ? resolve() : reject(new Error(`${command} exited with ${code}: ${stderr}`)))
    )
    // A tool that exits without reading its input (kdestroy) closes the pipe: its exit code tells.
    child.stdin.on("error", () => {})
    child.stdin.end(input)
  })

const cacheFile = (name: string) => `FILE:${Path.join(dir, name)}`

/** The environment MIT's library reads in this process (the addon) and in the tools it spawns. */
const useCache = (ccache: string, clientKeytab?: string) => {
  process.env["KRB5CCNAME"] = ccache
  if (clientKeytab === undefined) delete process.env["KRB5_CLIENT_KTNAME"]
  else process.env["KRB5_CLIENT_KTNAME"] = clientKeytab
}

beforeAll(async () => {
  // Loud, with the workspace's own remedy, rather than seven SYSTEM_KERBEROS_UNAVAILABLE failures.
  try {
    createRequire(import.meta.url)("kerberos")
  } catch (cause) {
    throw new Error(
      `the kerberos addon does not load; build it with: pnpm kerberos-addon (${
        cause instanceof Error ? cause.message : String(cause)
      })`
    )
  }
  dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-system-kerberos-"))
  http = await Simulator.start({ protocol: "http", kerberos: {} })
  https = await Simulator.start({ protocol: "https", kerberos: {} })
  httpsLoose = await Simulator.start({ protocol: "https", kerberos: {}, channelBindings: "when-present" })
  // The three simulators share the realm's name and users, but each has its own KDC and keys: one
  // krb5.conf each, and each test gets its tickets from the KDC of the server it talks to.
  await Fs.writeFile(Path.join(dir, "http.conf"), Simulator.krb5Conf(http.kdc!))
  await Fs.writeFile(Path.join(dir, "https.conf"), Simulator.krb5Conf(https.kdc!))
  await Fs.writeFile(Path.join(dir, "https-loose.conf"), Simulator.krb5Conf(httpsLoose.kdc!))
}, 60_000)

afterAll(async () => {
  await Promise.all([http?.close(), https?.close(), httpsLoose?.close()])
  await Fs.rm(dir, { recursive: true, force: true })
})

/** kinit alice into `cache` against the KDC of `conf`, with the password on stdin (MIT's tool, not ours). */
const kinit = (conf: string, cache: string) =>
  Effect.promise(() =>
    mit("kinit", [`${alice.name}@${REALM}`], `${alice.password}\n`, {
      ...process.env,
      KRB5_CONFIG: Path.join(dir, conf),
      KRB5CCNAME: cache
    })
  )

const useConf = (conf: string) => {
  process.env["KRB5_CONFIG"] = Path.join(dir, conf)
}

/** This process's MIT library on `conf`, with alice's TGT from kinit in the FILE: cache `name`. */
const loggedIn = (conf: string, name: string) =>
  Effect.suspend(() => {
    useConf(conf)
    const cache = cacheFile(name)
    return Effect.as(kinit(conf, cache), cache)
  }).pipe(Effect.tap((cache) => Effect.sync(() => useCache(cache))))

const localhostUrl = (served: { readonly url: string }) => served.url.replace("127.0.0.1", "localhost")

/** The layer of an authorize with the system's Kerberos: no username, no password. */
const layerFor = (
  served: { readonly url: string; readonly caPem: string | undefined },
  options: Partial<VedAuth.Options> = {}
) =>
  NodeVedAuth.layer({
    url: localhostUrl(served),
    clientId: Simulator.defaultClientId,
    scope: "certificate:manage",
    mechanism: "kerberos",
    kerberos: { system: true },
    tokenStorePath: Path.join(dir, "tokens.json"),
    ...(served.caPem === undefined ? {} : { transport: { ca: served.caPem } }),
    ...options
  })

const authorize = (
  served: { readonly url: string; readonly caPem: string | undefined },
  options: Partial<VedAuth.Options> = {}
) => VedAuth.authorize().pipe(Effect.provide(layerFor(served, options)))

const kerberosError = (error: { readonly _tag: string }): KerberosError => {
  assert.strictEqual(error._tag, "KerberosError", JSON.stringify(error))
  return error as KerberosError
}

describe("NodeSystemKerberos: the system's tickets through the kerberos addon, against the simulator", () => {
  it.live("a kinit TGT authorizes alice with one Kerberos request, no password anywhere", () =>
    Effect.gen(function*() {
      yield* loggedIn("http.conf", "alice.ccache")
      const before = yield* http.simulator.stats
      const grant = yield* authorize(http)
      assert.strictEqual(grant.scope, "certificate:manage")
      const live = (yield* http.simulator.grants).find((g) =>
        Redacted.value(g.accessToken) === Redacted.value(grant.accessToken)
      )
      assert.match(live?.user ?? "", /alice/i)
      const after = yield* http.simulator.stats
      // One request carrying the AP-REQ and the body: NTLM takes at least two, and has no password here.
      assert.strictEqual(after.handshakesCompleted - before.handshakesCompleted, 1)
      assert.strictEqual(after.handshakesRejected - before.handshakesRejected, 0)
      assert.deepStrictEqual(after.roundTripsPerHandshake.slice(before.roundTripsPerHandshake.length), [1])
    }))

  it.live("the server's AP-REP goes back to GSS-API: a corrupt or missing one is a KerberosError", () =>
    Effect.gen(function*() {
      yield* loggedIn("http.conf", "alice.ccache")
      yield* http.simulator.setFaults({ kerberosMutualAuth: "corrupt" })
      const corrupt = kerberosError(yield* Effect.flip(authorize(http)))
      assert.strictEqual(corrupt.reason, "KRB_AP_ERR_MUT_FAIL")
      yield* http.simulator.setFaults({ kerberosMutualAuth: "omit" })
      const omitted = kerberosError(yield* Effect.flip(authorize(http)))
      assert.strictEqual(omitted.reason, "KRB_AP_ERR_MUT_FAIL")
      assert.include(omitted.detail, "no Kerberos answer")
      yield* http.simulator.setFaults({})
    }))

  it.live("no ticket in the cache: a KerberosError that says to run kinit, before any request", () =>
    Effect.gen(function*() {
      useConf("http.conf")
      useCache(cacheFile("nobody.ccache"))
      const before = yield* http.simulator.stats
      const error = kerberosError(yield* Effect.flip(authorize(http)))
      assert.strictEqual(error.reason, "NO_CREDENTIALS")
      assert.include(error.hint ?? "", "run kinit")
      assert.strictEqual((yield* http.simulator.stats).requests, before.requests)
    }))

  it.live("no ticket under negotiate with a password: the authorize goes on with NTLM", () =>
    Effect.gen(function*() {
      useConf("http.conf")
      useCache(cacheFile("nobody.ccache"))
      const grant = yield* authorize(http, {
        mechanism: "negotiate",
        username: "CORP\\alice",
        password: Redacted.make(alice.password)
      })
      assert.strictEqual(grant.scope, "certificate:manage")
    }))

  it.live("a client keytab and a MEMORY: cache, no kinit: MIT gets the tickets itself", () =>
    Effect.gen(function*() {
      useConf("http.conf")
      const keytab = Path.join(dir, "alice.keytab")
      // MIT's ktutil derives the key from the password (the realm's default salt), as an admin would.
      yield* Effect.promise(() =>
        mit(
          "ktutil",
          [],
          `addent -password -p ${alice.name}@${REALM} -k 1 -e aes256-cts-hmac-sha1-96\n${alice.password}\nwkt ${keytab}\nquit\n`
        )
      )
      useCache("MEMORY:vedauth", `FILE:${keytab}`)
      const grant = yield* authorize(http)
      assert.strictEqual(grant.scope, "certificate:manage")
    }))

  it.live("a KEYRING: cache (the kernel's session keyring), which only the system's library reads", () =>
    Effect.gen(function*() {
      useConf("http.conf")
      const cache = `KEYRING:session:vedauth-${randomUUID()}`
      yield* Effect.acquireRelease(
        kinit("http.conf", cache),
        () => Effect.promise(() => mit("kdestroy", ["-c", cache], "").catch(() => undefined))
      )
      useCache(cache)
      const grant = yield* authorize(http)
      assert.strictEqual(grant.scope, "certificate:manage")
    }).pipe(Effect.scoped))

  it.live("over HTTPS where the server requires channel bindings: refused, and the error says why; a warning once", () =>
    Effect.gen(function*() {
      yield* loggedIn("https.conf", "alice-https.ccache")
      const warnings: Array<string> = []
      const logger = Logger.make(({ message }) => void warnings.push(String(message)))
      // Two authorizes on one layer: two refusals, one warning.
      const errors = yield* Effect.all([Effect.flip(VedAuth.authorize()), Effect.flip(VedAuth.authorize())]).pipe(
        Effect.provide(layerFor(https)),
        Effect.provide(Logger.replace(Logger.defaultLogger, logger))
      )
      for (const error of errors) {
        assert.strictEqual(error._tag, "KerberosError", JSON.stringify(error))
        assert.strictEqual(error._tag === "KerberosError" && error.reason, WindowsAuthHandshake.serverRefusedTicket)
        assert.include(error.message, "sent no TLS channel bindings")
        assert.include(error.message, "Extended Protection")
        assert.include(error.message, "kerberos.cache or kerberos.keytab")
      }
      assert.strictEqual(warnings.filter((w) => w.includes("sends no TLS channel bindings")).length, 1)
      const stats = yield* https.simulator.stats
      assert.strictEqual(stats.handshakesCompleted, 0)
      assert.isAbove(stats.handshakesRejected, 0)
    }))

  it.live("over HTTPS where the server does not require bindings: authorized", () =>
    Effect.gen(function*() {
      yield* loggedIn("https-loose.conf", "alice-https-loose.ccache")
      const grant = yield* authorize(httpsLoose)
      assert.strictEqual(grant.scope, "certificate:manage")
    }))
})
