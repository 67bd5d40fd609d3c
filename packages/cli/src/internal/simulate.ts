import { Simulator } from "@vedauth/testing"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { Run } from "./commands.js"
import { UsageError } from "./errors.js"
import { writeOwnFile } from "./ownFile.js"
import { simulateGrants } from "./simulateGrants.js"
import { kerberosSetup } from "./simulateKerberos.js"

const parsePort = (text: string | undefined) => {
  if (text === undefined) return Effect.succeed(0)
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN
  return port >= 0 && port <= 65535
    ? Effect.succeed(port)
    : Effect.fail(new UsageError({ detail: `'${text}' is not a port number, 0 to 65535 (--port)` }))
}

/** `vedauth simulate`: the TPP simulator in the foreground until Ctrl-C. @internal */
export const simulate: Run = (flags) =>
  Effect.gen(function*() {
    const port = yield* parsePort(typeof flags.port === "string" ? flags.port : undefined)
    const tls = flags.tls === true
    const certOut = typeof flags.certOut === "string" ? flags.certOut : undefined
    if (certOut !== undefined && !tls) {
      return yield* new UsageError({
        detail: "--cert-out writes the CA of the HTTPS simulator: add --tls (--cert-out)"
      })
    }
    const keytabOut = typeof flags.keytabOut === "string" ? flags.keytabOut : undefined
    if (keytabOut !== undefined && flags.kerberos !== true) {
      return yield* new UsageError({
        detail: "--keytab-out writes the keytab of the simulator's realm: add --kerberos (--keytab-out)"
      })
    }
    const grants = yield* simulateGrants(flags, tls)
    const served = yield* Simulator.serve({
      protocol: tls ? "https" : "http",
      port,
      ...grants.serveOptions,
      ...(flags.kerberos === true ? { kerberos: {} } : {})
    })
    if (certOut !== undefined) {
      yield* Effect.try({
        try: () => writeOwnFile(certOut, served.caPem ?? "", { mode: 0o644 }),
        catch: (error) =>
          new UsageError({
            detail: `cannot write the CA certificate: ${
              error instanceof Error ? error.message : String(error)
            } (--cert-out)`
          })
      })
    }
    // Written before the URL shows, so a script that waits for it finds them.
    const kerberosLines = yield* kerberosSetup(served, Simulator.defaultCredentials, keytabOut, certOut)
    const grantLines = yield* grants.afterServe(served)
    // The URL alone on the first line, so scripts can read it.
    yield* Console.log(served.url)
    const { domain, password, username } = Simulator.defaultCredentials
    yield* Console.error(
      [
        `vedauth simulator listening on ${served.url} (Ctrl-C to stop)`,
        // Demo credentials of a local test server: public, and printed so that they can be used.
        `  user ${domain}\\${username}, password ${Redacted.value(password)}, client id ${Simulator.defaultClientId}`,
        `  allowed scope ${Simulator.defaultScope}`,
        ...(certOut === undefined ? [] : [`  CA certificate written to ${certOut} (use it as --ca-file)`]),
        ...kerberosLines,
        ...grantLines
      ].join("\n")
    )
    return yield* Effect.never
  }).pipe(Effect.scoped)
