/**
 * The secret scan: every flow and every error path runs with known secret values (a distinctive
 * password, and every access and refresh token the server hands out), and none of them may appear in
 * an error (message, String, JSON), a log line at any level, anything written to stdout or stderr, or
 * any file other than the token store. The store itself may hold tokens but never the password.
 */
import { FileSystem, HttpClientRequest } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Grant, TokenStore } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeTokenStoreFiles } from "@vedauth/platform-node"
import { Effect, Layer, Logger, LogLevel, Option, Redacted, TestClock } from "effect"
import * as Simulator from "../../src/Simulator.js"

const password = "Sekr3t-Passw0rd-for-the-scan"
const users: Simulator.Options["users"] = [{ domain: "CORP", name: "alice", password: Redacted.make(password) }]
const url = "https://tpp.example"

const options = (overrides: Partial<VedAuth.Options> = {}): VedAuth.Options => ({
  url,
  clientId: Simulator.defaultClientId,
  scope: "certificate:manage",
  username: "CORP\\alice",
  password: Redacted.make(password),
  ...overrides
})

// Everything the code under test could show the world, captured.
const capture = () => {
  const lines: Array<string> = []
  const logger = Logger.map(Logger.logfmtLogger, (line) => lines.push(line))
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

const interceptOutput = Effect.acquireRelease(
  Effect.sync(() => {
    const written: Array<string> = []
    const original = { out: process.stdout.write, err: process.stderr.write }
    const tap = (chunk: unknown) => {
      written.push(String(chunk))
      return true
    }
    process.stdout.write = tap as typeof process.stdout.write
    process.stderr.write = tap as typeof process.stderr.write
    return { written, original }
  }),
  ({ original }) =>
    Effect.sync(() => {
      process.stdout.write = original.out
      process.stderr.write = original.err
    })
)

const describeError = (error: unknown): string => {
  const json = (() => {
    try {
      return JSON.stringify(error)
    } catch {
      return ""
    }
  })()
  return [String(error), error instanceof Error ? error.message : "", json].join("\n")
}

const assertClean = (where: string, text: string, secrets: ReadonlyArray<string>) => {
  for (const secret of secrets) assert.notInclude(text, secret, `a secret appeared in ${where}`)
}

describe("secret scan", () => {
  const logs = capture()
  it.scoped("no password or token in errors, logs, stdout/stderr or files other than the store, on every path", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-secrets-" })
      const storePath = `${dir}/store/tokens.json`
      const output = yield* interceptOutput
      const simulator = yield* Simulator.make({ users })
      const base = Layer.mergeAll(
        Layer.succeed(Simulator.Simulator, simulator),
        TokenStore.layerFileSystem({ path: storePath }).pipe(
          Layer.provide(Layer.merge(NodeTokenStoreFiles.layer, NodePath.layer))
        )
      )
      const platform = Layer.mergeAll(Simulator.layerNtlmTransport, Simulator.layerHttpClient).pipe(
        Layer.provideMerge(base)
      )
      const withVedAuth = (overrides: Partial<VedAuth.Options> = {}) =>
        VedAuth.layer(options(overrides)).pipe(Layer.provideMerge(platform))

      const errors: Array<unknown> = []
      const grants: Array<Grant.Grant> = []
      const attempt = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        Effect.tap(
          Effect.catchAll(Effect.map(effect, Option.some), (error) =>
            Effect.as(Effect.sync(() => errors.push(error)), Option.none<A>())),
          (result) =>
            Effect.sync(() => Option.map(result, (value) => value instanceof Grant.Grant && grants.push(value)))
        )

      yield* Effect.gen(function*() {
        // The good paths, so there are tokens to leak: authorize, managed token, refresh, verify, a resource call.
        const grant = Option.getOrThrow(yield* attempt(VedAuth.authorize()))
        yield* attempt(VedAuth.grant)
        yield* TestClock.adjust("59 minutes")
        yield* attempt(VedAuth.grant)
        const client = yield* VedAuth.httpClient
        yield* attempt(Effect.scoped(client.execute(HttpClientRequest.get(`${url}/vedsdk/certificates`))))
        // Refusals: a spent refresh token, an insufficient scope, a revoked token verified, a revoke twice.
        yield* attempt(VedAuth.refresh(grant))
        yield* attempt(VedAuth.refresh(grant))
        yield* attempt(Effect.scoped(client.execute(HttpClientRequest.post(`${url}/vedsdk/certificates/revoke`))))
        yield* attempt(VedAuth.revoke(grant))
        yield* attempt(VedAuth.revoke(grant))
        yield* attempt(VedAuth.verify(grant.accessToken))
        yield* attempt(VedAuth.authorize({ scope: "admin:delete" }))
        yield* attempt(VedAuth.authorize({ clientId: "nobody" }))
        // Faults: bodies that are not JSON, server errors, a challenge that does not parse.
        for (
          const faults of [{ nonJsonBody: true }, { serverError: 500 }, { serverError: 503 }, {
            malformedChallenge: true
          }]
        ) {
          yield* simulator.setFaults(faults)
          yield* attempt(VedAuth.authorize())
          yield* attempt(VedAuth.verify(grant.accessToken))
        }
        yield* simulator.setFaults({})
        // A stored grant whose refresh token another process already spent: the managed token logs
        // that the refresh was refused and authorizes again. That log line must not carry the token.
        const managed = Option.getOrThrow(yield* attempt(VedAuth.grant))
        yield* attempt(VedAuth.refresh(managed))
        const store = yield* TokenStore.TokenStore
        yield* store.set({
          server: url,
          clientId: Simulator.defaultClientId,
          scope: "certificate:manage",
          user: "CORP\\alice"
        }, managed)
        yield* TestClock.adjust("2 hours")
        yield* attempt(VedAuth.grant)
        yield* Effect.logDebug("scan probe")
      }).pipe(Effect.provide(withVedAuth()))

      // Wrong credentials and none at all.
      yield* attempt(VedAuth.authorize()).pipe(
        Effect.provide(withVedAuth({ password: Redacted.make(`${password}-wrong`) }))
      )
      yield* attempt(VedAuth.accessToken).pipe(
        Effect.provide(withVedAuth({ password: Redacted.make(`${password}-wrong`) }))
      )

      const tokens = grants.flatMap((
        grant
      ) => [Redacted.value(grant.accessToken), ...Option.toArray(Option.map(grant.refreshToken, Redacted.value))])
      const secrets = [password, `${password}-wrong`, ...tokens]
      assert.isAbove(tokens.length, 4, "the scan saw real tokens")
      assert.isAbove(errors.length, 10, "the scan went down the error paths")
      assert.isTrue(logs.lines.some((line) => line.includes("scan probe")), "the scan captures log lines")
      assert.isTrue(
        logs.lines.some((line) => line.includes("refresh token was refused")),
        "the scan saw the library log"
      )
      for (const error of errors) assertClean("an error", describeError(error), secrets)
      assertClean("a log line", logs.lines.join("\n"), secrets)
      assertClean("stdout/stderr", output.written.join(""), secrets)
      for (const file of yield* fs.readDirectory(dir, { recursive: true })) {
        const path = `${dir}/${file}`
        if ((yield* fs.stat(path)).type !== "File") continue
        const text = yield* fs.readFileString(path)
        assertClean(`the store file ${file} (password)`, text, [password, `${password}-wrong`])
        if (!file.endsWith("tokens.json")) assertClean(`the file ${file}`, text, secrets)
      }
    }).pipe(
      Effect.provide(Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)),
      Effect.provide(logs.layer),
      Logger.withMinimumLogLevel(LogLevel.All)
    ))
})
