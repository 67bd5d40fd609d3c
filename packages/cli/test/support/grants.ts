/**
 * Shared by the grant tests: keys, certificates and JWTs made by openssl (an independent peer, not
 * our code), a simulator over HTTPS that trusts them, and runs of `vedauth` that watch stderr (to act
 * as the person of the device flow, or to press Ctrl-C).
 */
import { FileSystem } from "@effect/platform"
import { assert } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { bin, collect, type Run } from "./runCli.js"

const openssl = (...args: ReadonlyArray<string>) => execFileSync("openssl", args, { stdio: ["pipe", "pipe", "pipe"] })
const p256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
const base64url = (bytes: Buffer): string => bytes.toString("base64url")

/** openssl's materials in `dir`: a client CA, certificates it signs, an RS256 JWT issuer. */
export const opensslKit = (dir: string) => {
  const file = (name: string) => join(dir, name)
  openssl(
    "req",
    "-x509",
    ...p256,
    "-keyout",
    file("client-ca.key"),
    "-out",
    file("client-ca.pem"),
    "-subj",
    "/CN=test client CA",
    "-days",
    "1"
  )
  openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", file("issuer.key"))
  openssl("pkey", "-in", file("issuer.key"), "-pubout", "-out", file("issuer.pub"))
  return {
    file,
    /** A certificate for `/CN=<cn>` and its key: signed by the client CA, or self-signed. */
    certificate: (cn: string, options: { readonly selfSigned?: boolean } = {}) => {
      const [cert, key] = [file(`${cn}.pem`), file(`${cn}.key`)]
      if (options.selfSigned === true) {
        openssl("req", "-x509", ...p256, "-keyout", key, "-out", cert, "-subj", `/CN=${cn}`, "-days", "1")
      } else {
        openssl("req", ...p256, "-keyout", key, "-out", file(`${cn}.csr`), "-subj", `/CN=${cn}`)
        openssl(
          "x509",
          "-req",
          "-in",
          file(`${cn}.csr`),
          "-CA",
          file("client-ca.pem"),
          "-CAkey",
          file("client-ca.key"),
          "-CAcreateserial",
          "-out",
          cert,
          "-days",
          "1"
        )
      }
      return { cert, key }
    },
    /** A JWT signed with `openssl dgst -sha256 -sign` by the issuer's key (or `key`). */
    jwt: (claims: Record<string, unknown>, key = file("issuer.key")) => {
      const input = `${base64url(Buffer.from(JSON.stringify({ alg: "RS256", typ: "JWT" })))}.${
        base64url(Buffer.from(JSON.stringify(claims)))
      }`
      return `${input}.${base64url(execFileSync("openssl", ["dgst", "-sha256", "-sign", key], { input }))}`
    }
  }
}

/** Claims the simulator's default issuer accepts for `sub`, good for `seconds`. */
export const claims = (sub: string, seconds = 600) => ({
  iss: "https://kubernetes.default.svc",
  aud: "vedauth",
  sub,
  exp: Math.floor(Date.now() / 1000) + seconds
})

/** A user besides alice, for the grants whose identity comes from a certificate or a JWT. */
export const bob = { name: "bob", password: Simulator.defaultCredentials.password, identity: "AD+corp:{b0b}" }

/**
 * The simulator over HTTPS trusting openssl's client CA and JWT key, a folder of the test's own
 * (HOME, store, files), and the selectors of its default integration.
 */
export const setupGrants = (options: Simulator.ServeOptions = {}) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-grants-" })
    const kit = opensslKit(dir)
    const served = yield* Simulator.serve({
      caPemPath: kit.file("tpp.pem"),
      clientCa: yield* fs.readFileString(kit.file("client-ca.pem")),
      jwt: { publicKeyPem: yield* fs.readFileString(kit.file("issuer.pub")) },
      users: [{ name: "alice", password: Simulator.defaultCredentials.password }, bob],
      ...options
    })
    const env = { HOME: dir, VEDAUTH_CA_FILE: kit.file("tpp.pem") }
    const server = (
      clientId = Simulator.defaultClientId
    ) => ["--url", served.url, "--client-id", clientId, "--scope", "certificate:manage"]
    return { dir, fs, kit, served, env, server }
  })

/** An integration whose tokens are shorter-lived than the smallest refresh window: every `token` renews. */
export const alwaysDue = { clientId: "short", tokenLifetime: "20 seconds" } as const

/**
 * Leaves the store holding a grant whose refresh token the server has already seen used (as after
 * a lost race or a restored backup), so that the next `token` must authorize again, with the grant
 * the profile names: refreshes once, then puts back the grant from before.
 */
export const spendRefreshToken = (env: Record<string, string>) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const store = `${env["HOME"]}/.local/state/vedauth/tokens.json`
    const before = yield* fs.readFileString(store)
    ok(yield* runIn(env["HOME"] ?? "", ["refresh"], env))
    yield* fs.writeFileString(store, before)
  })

/**
 * Runs `vedauth args...`, calling `onStderr` with stderr so far on every chunk (to approve a device
 * code, or to signal the child once the prompt shows).
 */
export const runWatching = (
  args: ReadonlyArray<string>,
  env: Record<string, string>,
  onStderr: (stderr: string, child: { readonly kill: (signal: NodeJS.Signals) => boolean }) => void
): Effect.Effect<Run> =>
  collect(process.execPath, [bin, ...args], {
    env: { PATH: process.env["PATH"] ?? "", ...env },
    watch: (output, child) => onStderr(output.stderr, child)
  }).pipe(Effect.map((output) => ({ ...output, argv: [bin, ...args] })))

/** Runs `vedauth args...` in the folder `cwd`. */
export const runIn = (cwd: string, args: ReadonlyArray<string>, env: Record<string, string>): Effect.Effect<Run> =>
  collect(process.execPath, [bin, ...args], { cwd, env: { PATH: process.env["PATH"] ?? "", ...env } }).pipe(
    Effect.map((output) => ({ ...output, argv: [bin, ...args] }))
  )

/** The user code in the device flow's prompt. */
export const userCodeIn = (stderr: string): string | undefined =>
  /enter the code ([A-Z]{4}-[A-Z]{4})\n/.exec(stderr)?.[1]

export const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)

/** A failed run: its exit code and its one error line. */
export const fails = (run: Run, code: number, line: RegExp) => {
  assert.strictEqual(run.code, code, `${run.argv.slice(1).join(" ")}: ${run.stderr}`)
  assert.match(run.stderr, line)
  assert.notInclude(run.stderr, "    at ", "no stack trace")
}

/** No secret in anything a run showed: its arguments, stdout and stderr. */
export const assertNoSecrets = (runs: ReadonlyArray<Run>, secrets: ReadonlyArray<string>) => {
  for (const run of runs) {
    for (const secret of secrets) {
      assert.notInclude(`${run.argv.join(" ")}\n${run.stdout}\n${run.stderr}`, secret, run.argv.slice(1).join(" "))
    }
  }
}
