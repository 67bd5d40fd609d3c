/**
 * `vedauth --grant certificate` and `--grant jwt` as a process against the simulator over HTTPS,
 * with certificates from `openssl req` and JWTs signed by `openssl dgst`: login, the lean `token`,
 * renewal through the same grant from the profile alone, and every documented error with its exit
 * code, never a private key or a JWT in any output.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import { chmodSync, copyFileSync, readFileSync, symlinkSync } from "node:fs"
import {
  alwaysDue,
  assertNoSecrets,
  bob,
  claims,
  fails,
  ok,
  runIn,
  setupGrants,
  spendRefreshToken
} from "./support/grants.js"
import { runCli } from "./support/runCli.js"

// The base64 body of a PEM private key: none of its lines may show anywhere.
const keyLines = (path: string) =>
  readFileSync(path, "utf8").split("\n").filter((line) => line.length > 20 && !line.startsWith("-----"))

describe("vedauth --grant certificate (openssl's client CA and certificates)", () => {
  it.scopedLive("login without user or password, token from the store, then renewal through the certificate with no flags", () =>
    Effect.gen(function*() {
      const { env, kit, served, server } = yield* setupGrants({
        integrations: [{ clientId: "vedauth-demo" }, alwaysDue]
      })
      const alice = kit.certificate("alice")
      const cert = ["--grant", "certificate", "--client-cert", alice.cert, "--client-key", alice.key]
      const login = yield* runCli(["login", ...server(), ...cert, "--json"], { env })
      ok(login)
      assert.match(JSON.parse(login.stdout).identity, /^AD\+corp:/)
      const first = yield* runCli(["token"], { env })
      ok(first)
      const before = yield* served.simulator.stats
      const again = yield* runCli(["token"], { env })
      assert.strictEqual(again.stdout, first.stdout)
      assert.strictEqual(
        (yield* served.simulator.stats).requests,
        before.requests,
        "the lean path found the certificate grant's key"
      )
      ok(yield* runCli(["verify"], { env }))

      // Tokens always due: `token` refreshes; with the refresh token spent it authorizes again, with
      // the certificate the profile saved and no flags.
      ok(yield* runCli(["login", ...server("short"), ...cert, "--profile", "short"], { env }))
      const refreshed = yield* runCli(["token"], { env })
      ok(refreshed)
      assert.strictEqual((yield* served.simulator.stats).authorizeCertificate, 2, "refreshed, not authorized")
      yield* spendRefreshToken(env)
      const renewed = yield* runCli(["token"], { env })
      ok(renewed)
      assert.include(renewed.stderr, "authorizing again")
      assert.notStrictEqual(renewed.stdout, refreshed.stdout)
      assert.strictEqual(
        (yield* served.simulator.stats).authorizeCertificate,
        3,
        "authorized again through the certificate"
      )
      const status = yield* runCli(["status", "--json"], { env })
      const grants = JSON.parse(status.stdout).grants as ReadonlyArray<
        { readonly clientId: string; readonly user: string; readonly profiles: ReadonlyArray<string> }
      >
      assert.deepStrictEqual(
        grants.map((grant) => [grant.clientId, grant.user, grant.profiles]).sort(),
        [["short", "certificate:", ["short"]], ["vedauth-demo", "certificate:", ["default"]]]
      )
      const logout = yield* runCli(["logout"], { env })
      ok(logout)
      assert.include(logout.stderr, "logged out the certificate grant at")
      assertNoSecrets([login, first, again, refreshed, renewed, status, logout], keyLines(alice.key))
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("every documented refusal: exit code and reason on stderr; missing, encrypted or mismatched files are usage errors", () =>
    Effect.gen(function*() {
      const { env, kit, server } = yield* setupGrants({
        integrations: [
          { clientId: "vedauth-demo" },
          { clientId: "no-certificates", grantTypes: ["integrated"] },
          { clientId: "bob-only", users: ["CORP\\bob"] }
        ]
      })
      const alice = kit.certificate("alice")
      const stranger = kit.certificate("alice-elsewhere", { selfSigned: true })
      const mallory = kit.certificate("mallory")
      const encrypted = kit.file("encrypted.key")
      execFileSync("openssl", ["pkey", "-in", alice.key, "-aes256", "-passout", "pass:locked", "-out", encrypted])
      // A certificate given as the key, readable by the user alone (else its mode is refused first).
      const certAsKey = kit.file("alice-cert-as.key")
      copyFileSync(alice.cert, certAsKey)
      chmodSync(certAsKey, 0o600)
      const login = (files: { readonly cert: string; readonly key: string }, ...more: ReadonlyArray<string>) =>
        runCli([
          "login",
          ...server(),
          "--grant",
          "certificate",
          "--client-cert",
          files.cert,
          "--client-key",
          files.key,
          ...more
        ], { env })
      const runs = [
        yield* runCli(["login", ...server(), "--grant", "certificate", "--client-cert", alice.cert], { env }),
        yield* runCli([
          "login",
          ...server(),
          "--grant",
          "certificate",
          "--client-cert",
          alice.cert,
          "--client-key",
          kit.file("nowhere.key")
        ], { env }),
        yield* runCli(["login", ...server(), "--client-cert", alice.cert, "--username", "CORP\\alice"], { env }),
        yield* login(alice, "--password-stdin"),
        yield* login(stranger),
        yield* login(mallory),
        yield* login(alice, "--client-id", "no-certificates"),
        yield* login(alice, "--client-id", "bob-only"),
        yield* login(alice, "--scope", "admin:delete"),
        yield* login({ cert: alice.cert, key: encrypted }),
        yield* login({ cert: alice.cert, key: mallory.key }),
        yield* login({ cert: alice.cert, key: certAsKey }),
        yield* login({ cert: alice.key, key: alice.key })
      ]
      const [
        noKey,
        missingKey,
        noGrant,
        password,
        untrusted,
        unmapped,
        disabled,
        notAllowed,
        scope,
        locked,
        mismatch,
        notKey,
        notCert
      ] = runs
      fails(
        noKey!,
        1,
        /^error: UsageError: the certificate grant needs the client key file \(--client-key or VEDAUTH_CLIENT_KEY\)\n$/
      )
      fails(
        missingKey!,
        1,
        /^error: UsageError: cannot read the client key file '.*nowhere\.key': it does not exist \(--client-key\)\n$/
      )
      fails(
        noGrant!,
        1,
        /^error: UsageError: --client-cert is for the certificate grant: add --grant certificate \(--client-cert\)\n$/
      )
      fails(password!, 1, /^error: UsageError: the certificate grant asks for no password \(--password-stdin\)\n$/)
      fails(untrusted!, 2, /^error: InvalidGrant: .*A trusted client certificate is required/)
      fails(unmapped!, 2, /^error: UnhandledIdentityClaim: /)
      fails(disabled!, 2, /^error: InvalidClient: /)
      fails(notAllowed!, 2, /^error: UnauthorizedClient: /)
      fails(scope!, 2, /^error: InvalidScope: /)
      fails(
        locked!,
        1,
        /^error: UsageError: the client key in '.*encrypted\.key' is encrypted: give it without a passphrase, readable only by you \(--client-key\)\n$/
      )
      fails(
        mismatch!,
        1,
        /^error: UsageError: the key in '.*mallory\.key' is not the key of the certificate in '.*alice\.pem' \(--client-key\)\n$/
      )
      fails(notKey!, 1, /^error: UsageError: '.*alice-cert-as\.key' is not a PEM private key \(--client-key\)\n$/)
      fails(notCert!, 1, /^error: UsageError: '.*alice\.key' is not a PEM certificate \(--client-cert\)\n$/)
      assertNoSecrets(runs, [
        ...keyLines(alice.key),
        ...keyLines(stranger.key),
        ...keyLines(mallory.key),
        ...keyLines(encrypted),
        "pass:locked"
      ])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("issue #21 R11: a client key readable by group or others (0644, 0666) or given as a symlink is refused before any request, saying chmod 600", () =>
    Effect.gen(function*() {
      const { env, kit, served, server } = yield* setupGrants({ integrations: [{ clientId: "vedauth-demo" }] })
      const alice = kit.certificate("alice")
      const copy = (name: string, mode: number) => {
        const file = kit.file(name)
        copyFileSync(alice.key, file)
        chmodSync(file, mode)
        return file
      }
      const linked = kit.file("linked.key")
      symlinkSync(copy("real.key", 0o600), linked)
      // The certificate may be a link (it proves nothing without the key): only the key is refused.
      const linkedCert = kit.file("linked.pem")
      symlinkSync(alice.cert, linkedCert)
      const login = (key: string) =>
        runCli(["login", ...server(), "--grant", "certificate", "--client-cert", linkedCert, "--client-key", key], {
          env
        })
      const runs = [
        yield* login(copy("world.key", 0o644)),
        yield* login(copy("open.key", 0o666)),
        yield* login(copy("group.key", 0o640)),
        yield* login(linked)
      ]
      const [world, open, group, link] = runs
      fails(
        world!,
        1,
        /^error: UsageError: cannot use the private key '.*world\.key': it is readable by group or others \(mode 0644\); a private key must be readable only by you: run chmod 600 on it \(--client-key\)\n$/
      )
      fails(
        open!,
        1,
        /^error: UsageError: cannot use the private key '.*open\.key': it is writable by group or others \(mode 0666\).* \(--client-key\)\n$/
      )
      fails(group!, 1, /readable by group or others \(mode 0640\).*chmod 600/)
      fails(
        link!,
        1,
        /^error: UsageError: cannot use the private key '.*linked\.key': it is a symbolic link, which is never followed here .* \(--client-key\)\n$/
      )
      assert.strictEqual((yield* served.simulator.stats).requests, 0, "nothing was sent")
      assertNoSecrets(runs, keyLines(alice.key))
      // The same key at 0600, through the linked certificate: logged in.
      ok(yield* login(copy("good.key", 0o600)))
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("vedauth --grant jwt (JWTs signed by openssl dgst)", () => {
  it.scopedLive("login, the lean token, and renewal that reads the rotated file anew", () =>
    Effect.gen(function*() {
      const { dir, env, fs, kit, served, server } = yield* setupGrants({
        integrations: [{ clientId: "vedauth-demo" }, alwaysDue]
      })
      const file = `${dir}/projected/token`
      yield* fs.makeDirectory(`${dir}/projected`)
      const aliceJwt = kit.jwt(claims("CORP\\alice"))
      yield* fs.writeFileString(file, `${aliceJwt}\n`)
      const login = yield* runCli(["login", ...server(), "--grant", "jwt", "--jwt-file", file], { env })
      ok(login)
      const first = yield* runCli(["token"], { env })
      ok(first)
      const before = (yield* served.simulator.stats).requests
      assert.strictEqual((yield* runCli(["token"], { env })).stdout, first.stdout)
      assert.strictEqual((yield* served.simulator.stats).requests, before, "the lean path found the JWT grant's key")

      // The relative path is saved absolute: later commands run from anywhere.
      ok(
        yield* runIn(dir, [
          "login",
          ...server("short"),
          "--grant",
          "jwt",
          "--jwt-file",
          "projected/token",
          "--profile",
          "short"
        ], env)
      )
      const profiles = JSON.parse(yield* fs.readFileString(`${dir}/.local/state/vedauth/profiles.json`))
      assert.deepInclude(profiles.profiles.short, { grant: "jwt", jwtFile: file })
      // The platform rotates the projected token: the next authorize sends the new one (bob's).
      const bobJwt = kit.jwt(claims("CORP\\bob"))
      yield* fs.writeFileString(file, bobJwt)
      yield* spendRefreshToken(env)
      const renewed = yield* runCli(["token"], { env })
      ok(renewed)
      const verify = yield* runCli(["verify", "--json"], { env })
      ok(verify)
      assert.strictEqual(JSON.parse(verify.stdout).identity, bob.identity)
      assertNoSecrets([login, first, renewed, verify], [aliceJwt, bobJwt])
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("every documented refusal, an unreadable or empty file, and a FIFO that must not hang", () =>
    Effect.gen(function*() {
      const { dir, env, fs, kit, server } = yield* setupGrants({
        integrations: [{ clientId: "vedauth-demo" }, { clientId: "no-jwt", grantTypes: ["integrated"] }, {
          clientId: "bob-only",
          users: ["CORP\\bob"]
        }]
      })
      const jwts = {
        expired: kit.jwt(claims("CORP\\alice", -60)),
        audience: kit.jwt({ ...claims("CORP\\alice"), aud: "someone-else" }),
        unknown: kit.jwt(claims("CORP\\nobody")),
        good: kit.jwt(claims("CORP\\alice"))
      }
      const [header, payload] = jwts.good.split(".")
      const tampered = `${header}.${payload}.${jwts.expired.split(".")[2]}`
      const withJwt = (name: string, jwt: string, ...more: ReadonlyArray<string>) =>
        Effect.flatMap(
          fs.writeFileString(`${dir}/${name}.jwt`, jwt),
          () => runCli(["login", ...server(), "--grant", "jwt", "--jwt-file", `${dir}/${name}.jwt`, ...more], { env })
        )
      execFileSync("mkfifo", [`${dir}/fifo`])
      const runs = [
        yield* runCli(["login", ...server(), "--grant", "jwt"], { env }),
        yield* runCli(["login", ...server(), "--grant", "jwt", "--jwt-file", `${dir}/fifo`], { env }),
        yield* runCli(["login", ...server(), "--grant", "jwt", "--jwt-file", dir], { env }),
        yield* withJwt("expired", jwts.expired),
        yield* withJwt("audience", jwts.audience),
        yield* withJwt("tampered", tampered),
        yield* withJwt("unknown", jwts.unknown),
        yield* withJwt("empty", "\n"),
        yield* withJwt("disabled", jwts.good, "--client-id", "no-jwt"),
        yield* withJwt("not-allowed", jwts.good, "--client-id", "bob-only"),
        yield* withJwt("scope", jwts.good, "--scope", "admin:delete"),
        yield* runCli(["login", ...server(), "--grant", "jwt", "--jwt-file", `${dir}/scope.jwt`, "--password-stdin"], {
          env
        }),
        yield* runCli(["login", ...server()], { env: { ...env, VEDAUTH_GRANT: "kerberos" } })
      ]
      const [
        noFile,
        fifo,
        folder,
        expired,
        audience,
        signature,
        unknown,
        empty,
        disabled,
        notAllowed,
        scope,
        password,
        badGrant
      ] = runs
      fails(noFile!, 1, /^error: UsageError: the jwt grant needs the JWT file \(--jwt-file or VEDAUTH_JWT_FILE\)\n$/)
      fails(
        fifo!,
        1,
        /^error: UsageError: cannot read the JWT file '.*fifo': it is not a regular file \(--jwt-file\)\n$/
      )
      fails(folder!, 1, /it is not a regular file \(--jwt-file\)\n$/)
      fails(expired!, 2, /^error: InvalidGrant: .*expired/)
      fails(audience!, 2, /^error: InvalidGrant: .*audience/)
      fails(signature!, 2, /^error: InvalidGrant: .*signature/)
      fails(unknown!, 2, /^error: UnhandledIdentityClaim: /)
      fails(empty!, 3, /^error: AuthenticationFailed: .*empty/)
      fails(disabled!, 2, /^error: InvalidClient: /)
      fails(notAllowed!, 2, /^error: UnauthorizedClient: /)
      fails(scope!, 2, /^error: InvalidScope: /)
      fails(password!, 1, /^error: UsageError: the jwt grant asks for no password \(--password-stdin\)\n$/)
      fails(
        badGrant!,
        1,
        /^error: UsageError: 'kerberos' is not a grant: use integrated, password, certificate, jwt or device \(VEDAUTH_GRANT\)\n$/
      )
      assertNoSecrets(runs, [...Object.values(jwts), tampered])
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
