/**
 * `vedauth simulate --kerberos`: what it prints is enough for an independent client. MIT's kinit
 * takes a ticket with the keytab it wrote and the krb5.conf it names, and `curl --negotiate` gets a
 * token with it; `vedauth` logs in with the same keytab, and with kinit's cache.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Simulator } from "@vedauth/testing"
import { Effect } from "effect"
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import { kinitKeytab, simulateKerberos } from "./support/kerberosCli.js"
import { type Run, runCli } from "./support/runCli.js"

const ok = (run: Run) => assert.strictEqual(run.code, 0, `exit ${run.code}: ${run.stderr}`)

const integration = ["--client-id", Simulator.defaultClientId, "--scope", "certificate:manage"]

describe("vedauth simulate --kerberos", () => {
  it.scopedLive("prints the realm, KDC and SPN, writes a 0600 keytab and a krb5.conf that kinit, curl --negotiate and vedauth use", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-simkrb-" })
      const sim = yield* Effect.scoped(Effect.gen(function*() {
        const sim = yield* simulateKerberos(["--keytab-out", "alice.keytab"], dir)
        assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/)
        assert.strictEqual(sim.realm, "CORP.EXAMPLE")
        assert.strictEqual(sim.spn, "HTTP/localhost")
        assert.strictEqual(sim.keytab, `${dir}/alice.keytab`)
        assert.strictEqual((yield* fs.stat(sim.keytab)).mode & 0o777, 0o600)
        assert.include(yield* fs.readFileString(sim.krb5Conf), `kdc = ${sim.kdc}`)
        const byName = sim.url.replace("127.0.0.1", "localhost")
        const env = { KRB5_CONFIG: sim.krb5Conf }

        // MIT's kinit with the printed keytab and krb5.conf, then curl with that ticket.
        const cache = `${dir}/kinit.ccache`
        yield* kinitKeytab("alice@CORP.EXAMPLE", sim.keytab, cache, env)
        const body = JSON.stringify({ client_id: Simulator.defaultClientId, scope: "certificate:manage" })
        const { stdout } = yield* Effect.promise(() =>
          promisify(execFile)(
            "curl",
            [
              "--silent",
              "--show-error",
              "--negotiate",
              "-u",
              ":",
              "-H",
              "content-type: application/json",
              "--data",
              body,
              "--write-out",
              "\n%{http_code}",
              `${byName}/vedauth/authorize/integrated`
            ],
            { env: { PATH: process.env["PATH"] ?? "", ...env, KRB5CCNAME: `FILE:${cache}` } }
          )
        )
        const [json, status] = stdout.trim().split("\n")
        assert.strictEqual(status, "200", stdout)
        assert.match((JSON.parse(json!) as { access_token: string }).access_token, /^\S+$/)

        // vedauth with the keytab (no user, no password; the KDC from KRB5_CONFIG), and with kinit's cache.
        const withKeytab = yield* runCli([
          "login",
          "--url",
          byName,
          ...integration,
          "--keytab",
          sim.keytab,
          "--store",
          `${dir}/keytab.json`,
          "--json"
        ], { env })
        ok(withKeytab)
        assert.strictEqual(JSON.parse(withKeytab.stdout).scope, "certificate:manage")
        ok(
          yield* runCli(["login", "--url", byName, ...integration, "--store", `${dir}/cache.json`], {
            env: { ...env, KRB5CCNAME: cache }
          })
        )
        for (const store of ["keytab.json", "cache.json"]) {
          const status = JSON.parse((yield* runCli(["status", "--store", `${dir}/${store}`, "--json"])).stdout)
          assert.strictEqual(status.grants[0].user, "alice@corp.example", store)
        }
        return sim
      }))
      // Stopped: the temp folder with krb5.conf is gone; the keytab asked for with --keytab-out stays.
      assert.isFalse(yield* fs.exists(sim.krb5Conf))
      assert.isTrue(yield* fs.exists(sim.keytab))
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("with --tls: vedauth logs in over HTTPS with the keytab (channel bindings in the authenticator); --keytab-out needs --kerberos", () =>
    Effect.gen(function*() {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-simkrb-" })
      const sim = yield* simulateKerberos(["--tls", "--cert-out", "ca.pem"], dir)
      assert.match(sim.url, /^https:\/\//)
      assert.match(sim.keytab, /vedauth-simulate-[^/]+\/alice\.keytab$/, "by default in a fresh temp folder")
      // curl sends no channel bindings, which the simulator requires over TLS: it is not suggested there.
      assert.notInclude(sim.stderr, "curl --negotiate -u :")
      assert.include(
        sim.stderr,
        `vedauth login --url ${
          sim.url.replace("127.0.0.1", "localhost")
        } --client-id vedauth-demo --scope certificate:manage --keytab ${sim.keytab} --ca-file ca.pem`
      )
      assert.include(
        sim.stderr,
        "(not curl --negotiate: over TLS this simulator requires channel bindings, which curl does not send)"
      )
      const login = yield* runCli(
        [
          "login",
          "--url",
          sim.url.replace("127.0.0.1", "localhost"),
          ...integration,
          "--keytab",
          sim.keytab,
          "--ca-file",
          `${dir}/ca.pem`,
          "--mechanism",
          "kerberos"
        ],
        { env: { KRB5_CONFIG: sim.krb5Conf } }
      )
      ok(login)
      const misuse = yield* runCli(["simulate", "--keytab-out", `${dir}/x.keytab`])
      assert.strictEqual(misuse.code, 1)
      assert.strictEqual(
        misuse.stderr,
        "error: UsageError: --keytab-out writes the keytab of the simulator's realm: add --kerberos (--keytab-out)\n"
      )
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
