/**
 * `vedauth simulate --kerberos`: the simulator's realm made usable from outside: the demo user's
 * keytab and a krb5.conf naming the KDC on loopback, written for `vedauth --keytab`, `kinit` and
 * `curl --negotiate`, and the lines that say where they are.
 * @internal
 */
import * as Kerberos from "@vedauth/core/Kerberos"
import { Simulator } from "@vedauth/testing"
import * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve as resolvePath } from "node:path"
import { UsageError } from "./errors.js"
import { writeOwnFile } from "./ownFile.js"

const cannotWrite = (what: string, flag: string) => (error: unknown) =>
  new UsageError({
    detail: `cannot write the ${what}: ${error instanceof Error ? error.message : String(error)} (${flag})`
  })

/**
 * Writes the demo user's keytab (0600, to `keytabOut` or into a new temp folder that goes away with
 * the scope) and krb5.conf, and returns what to print on stderr.
 * @internal
 */
export const kerberosSetup = (
  served: {
    readonly url: string
    readonly port: number
    readonly kdc: string | undefined
    readonly simulator: Simulator.Service
  },
  user: { readonly username: string; readonly password: Redacted.Redacted<string> },
  keytabOut: string | undefined,
  caFile?: string
) =>
  Effect.gen(function*() {
    const realm = served.simulator.kerberos?.realm
    if (realm === undefined || served.kdc === undefined) return []
    const folder = yield* Effect.acquireRelease(
      Effect.sync(() => mkdtempSync(join(tmpdir(), "vedauth-simulate-"))),
      (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
    )
    const principal = `${user.username}@${realm}`
    const keytab = yield* Kerberos.keytabFromPassword({ name: [user.username], realm }, user.password)
    const keytabPath = resolvePath(keytabOut ?? join(folder, `${user.username}.keytab`))
    yield* Effect.try({
      try: () => writeOwnFile(keytabPath, Kerberos.keytabToBytes(keytab)),
      catch: cannotWrite("keytab", "--keytab-out")
    })
    const hosts = served.simulator.kerberos!.serviceKeytab.principals.map((p) =>
      p.slice(p.indexOf("/") + 1, p.lastIndexOf("@"))
    )
    const confPath = join(folder, "krb5.conf")
    yield* Effect.try({
      try: () => writeOwnFile(confPath, Simulator.krb5Conf(served.kdc!, { realm, hosts }), { mode: 0o644 }),
      catch: cannotWrite("krb5.conf", "--kerberos")
    })
    const byName = served.url.replace("127.0.0.1", hosts[0] ?? "localhost")
    return [
      `  Kerberos realm ${realm}, KDC ${served.kdc} (TCP), SPN HTTP/${hosts[0]} (other hosts: ${
        hosts.slice(1).join(", ") || "none"
      })`,
      `  Kerberos URL ${byName} (the SPN is the URL's host name; with ${served.url} pass --spn HTTP/${hosts[0]})`,
      `  keytab of ${principal} written to ${keytabPath} (vedauth --keytab, kinit -kt)`,
      `  krb5.conf written to ${confPath} (export KRB5_CONFIG=${confPath})`,
      ...(byName.startsWith("https:")
        // Over TLS the simulator requires channel bindings, which curl's Negotiate does not send.
        ? [
          `  e.g. KRB5_CONFIG=${confPath} vedauth login --url ${byName} --client-id ${Simulator.defaultClientId} ` +
          `--scope certificate:manage --keytab ${keytabPath} --ca-file ${caFile ?? "CA.pem (from --cert-out)"}`,
          "  (not curl --negotiate: over TLS this simulator requires channel bindings, which curl does not send)"
        ]
        : [
          `  e.g. KRB5_CONFIG=${confPath} kinit -kt ${keytabPath} ${principal} && curl --negotiate -u : ${byName}/vedauth/authorize/integrated ...`
        ])
    ]
  })
