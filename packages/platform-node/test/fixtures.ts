/** Fixtures shared by the TLS-settings and composition tests: placeholder PEMs (never parsed) and a temp folder. */
import { Effect, Redacted } from "effect"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"

export const inlineCa = "-----BEGIN CERTIFICATE-----\ninline\n-----END CERTIFICATE-----\n"
export const fileCa = "-----BEGIN CERTIFICATE-----\nfrom-file\n-----END CERTIFICATE-----\n"
export const clientKey = Redacted.make("-----BEGIN PRIVATE KEY-----\nsecret-key\n-----END PRIVATE KEY-----\n")

/** A temp folder holding `ca.pem` (`fileCa`), removed with the scope. */
export const caFileFixture = Effect.acquireRelease(
  Effect.promise(async () => {
    const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "vedauth-node-"))
    const caFile = Path.join(dir, "ca.pem")
    await Fs.writeFile(caFile, fileCa)
    return { dir, caFile }
  }),
  ({ dir }) => Effect.promise(() => Fs.rm(dir, { recursive: true, force: true }))
)
