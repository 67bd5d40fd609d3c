/**
 * `vedauth simulate`'s options for the grants other than integrated: what the simulator trusts (a
 * client CA, a JWT issuer's key), files it writes so a person can try a grant at once (a client
 * certificate and key for the demo user, a signed JWT), and the device flow's pace and approval.
 * @internal
 */
import * as LocalFiles from "@vedauth/core/LocalFiles"
import * as NodeTokenStoreFiles from "@vedauth/platform-node/NodeTokenStoreFiles"
import { Simulator } from "@vedauth/testing"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { createPublicKey, X509Certificate } from "node:crypto"
import { UsageError } from "./errors.js"
import { writeOwnFile } from "./ownFile.js"
import type { Flags, OptionKey } from "./spec.js"
import { safeText } from "./terminalText.js"

type Served = Simulator.Served & { readonly simulator: Simulator.Service }

/** What the grant options add to the simulator, and what to do once it listens. @internal */
export interface SimulateGrants {
  readonly serveOptions: Pick<Simulator.ServeOptions, "clientCa" | "jwt" | "device">
  /** Writes the files asked for; the lines that tell the person about them. */
  readonly afterServe: (served: Served) => Effect.Effect<ReadonlyArray<string>, UsageError>
}

const usage = (detail: string, flag: string) => new UsageError({ detail: `${detail} (${flag})` })

const text = (
  flags: Flags,
  key: OptionKey
): string | undefined => (typeof flags[key] === "string" ? flags[key] : undefined)

const count = (flags: Flags, key: OptionKey, flag: string, max: number) => {
  const given = text(flags, key)
  if (given === undefined) return Effect.succeed(undefined)
  const value = /^\d{1,6}$/.test(given) ? Number(given) : Number.NaN
  return value <= max
    ? Effect.succeed(value)
    : Effect.fail(usage(`'${safeText(given)}' is not a whole number from 0 to ${max}`, flag))
}

// A PEM file the simulator is to trust, checked as what it must be, so a mistake is a usage error
// at start rather than a refused handshake later. Read through the one hardened reader, as a CA
// file: it decides whom the simulator trusts.
const readPem = (path: string, flag: string, what: string, check: (pem: string) => unknown) =>
  LocalFiles.readExistingText(path, "caFile").pipe(
    Effect.provide(NodeTokenStoreFiles.layer),
    Effect.flatMap((pem) => Effect.try(() => check(pem)).pipe(Effect.as(pem))),
    Effect.mapError((error) =>
      usage(
        `cannot read ${what} from '${safeText(path)}'${
          error._tag === "LocalFileError" ? `: ${safeText(error.detail)}` : ""
        }`,
        flag
      )
    )
  )

const write = (path: string, content: string, mode: number, flag: string) =>
  Effect.try({
    try: () => writeOwnFile(path, content, { mode }),
    catch: (error) =>
      usage(`cannot write ${safeText(path)}: ${error instanceof Error ? safeText(error.message) : "failed"}`, flag)
  })

const demoUser = `${Simulator.defaultCredentials.domain}\\${Simulator.defaultCredentials.username}`

// Long enough to try every command at leisure; the JWT is read anew at each authorize, so a fresh
// `simulate --jwt-out` is all it takes to get another.
const jwtLifetimeSeconds = 24 * 60 * 60

/** Reads and checks the grant options of `simulate`. @internal */
export const simulateGrants = (flags: Flags, tls: boolean): Effect.Effect<SimulateGrants, UsageError> =>
  Effect.gen(function*() {
    const clientCaFile = text(flags, "clientCa")
    const certOut = text(flags, "clientCertOut")
    const keyOut = text(flags, "clientKeyOut")
    const jwtKeyFile = text(flags, "jwtKey")
    const jwtOut = text(flags, "jwtOut")
    if (!tls && clientCaFile !== undefined) {
      return yield* usage("client certificates need HTTPS: add --tls", "--client-ca")
    }
    if (!tls && certOut !== undefined) {
      return yield* usage("client certificates need HTTPS: add --tls", "--client-cert-out")
    }
    if ((certOut === undefined) !== (keyOut === undefined)) {
      return yield* usage(
        "the client certificate and its key are written together: give both",
        "--client-cert-out and --client-key-out"
      )
    }
    if (jwtKeyFile !== undefined && jwtOut !== undefined) {
      return yield* usage(
        "the simulator can sign a JWT only with a key of its own: drop --jwt-key, or sign with yours",
        "--jwt-out"
      )
    }
    const approveAfter = yield* count(flags, "deviceApproveAfter", "--device-approve-after", 1000)
    const interval = yield* count(flags, "deviceInterval", "--device-interval", 3600)
    const givenCa = clientCaFile === undefined
      ? undefined
      : yield* readPem(clientCaFile, "--client-ca", "a CA certificate (PEM)", (pem) => new X509Certificate(pem))
    const jwtKey = jwtKeyFile === undefined
      ? undefined
      : yield* readPem(jwtKeyFile, "--jwt-key", "a public key (PEM)", (pem) => createPublicKey(pem))
    const client = certOut === undefined ? undefined : yield* Effect.mapError(
      Simulator.generateClientCertificate(Simulator.defaultCredentials.username),
      (error) => usage(error.detail, "--client-cert-out")
    )
    const clientCa = [...(givenCa === undefined ? [] : [givenCa]), ...(client === undefined ? [] : [client.caPem])]
    const serveOptions = {
      ...(clientCa.length === 0 ? {} : { clientCa }),
      ...(jwtKey === undefined ? {} : { jwt: { publicKeyPem: jwtKey } }),
      ...(approveAfter === undefined && interval === undefined ? {} : {
        device: {
          ...(approveAfter === undefined ? {} : { autoApproveAfterPolls: approveAfter }),
          ...(interval === undefined ? {} : { interval })
        }
      })
    }
    const afterServe = (served: Served) =>
      Effect.gen(function*() {
        const lines: Array<string> = []
        if (givenCa !== undefined) {
          lines.push(`  accepting client certificates issued by the CA in ${safeText(clientCaFile ?? "")}`)
        }
        if (client !== undefined && certOut !== undefined && keyOut !== undefined) {
          yield* write(certOut, client.certPem, 0o644, "--client-cert-out")
          yield* write(keyOut, Redacted.value(client.keyPem), 0o600, "--client-key-out")
          lines.push(
            `  client certificate of ${demoUser} written to ${safeText(certOut)}, its key to ${safeText(keyOut)}`,
            `    (--grant certificate --client-cert ${safeText(certOut)} --client-key ${safeText(keyOut)})`
          )
        }
        const { audience, issuer } = served.simulator.config.jwt
        if (jwtKey !== undefined) {
          lines.push(
            `  trusting JWTs signed by the key in ${
              safeText(jwtKeyFile ?? "")
            } (iss ${issuer}, aud ${audience}, sub: the user)`
          )
        }
        if (jwtOut !== undefined) {
          const now = Math.floor((yield* Clock.currentTimeMillis) / 1000)
          const jwt = yield* served.simulator.signJwt({
            iss: issuer,
            aud: audience,
            sub: demoUser,
            iat: now,
            exp: now + jwtLifetimeSeconds
          })
          yield* write(jwtOut, `${jwt}\n`, 0o600, "--jwt-out")
          lines.push(
            `  JWT of ${demoUser}, good for 24 hours, written to ${safeText(jwtOut)} (--grant jwt --jwt-file ${
              safeText(jwtOut)
            })`
          )
        }
        if (approveAfter !== undefined) {
          lines.push(`  device codes are approved on the poll after ${approveAfter} (--grant device)`)
        }
        return lines
      })
    return { serveOptions, afterServe }
  })
