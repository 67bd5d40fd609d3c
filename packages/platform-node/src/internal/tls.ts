/** TLS settings shared by the NTLM transport and the plain HTTP client: extra CAs and a client certificate. */
import { Effect, Redacted } from "effect"
import * as Fs from "node:fs/promises"
import type * as Https from "node:https"
import * as Tls from "node:tls"
import { TransportError } from "@vedauth/core/VedAuthError"

/** @internal */
export interface TlsOptions {
  readonly ca?: string | ReadonlyArray<string>
  readonly caFile?: string
  readonly clientCertificate?: {
    readonly cert: string
    readonly key: Redacted.Redacted<string>
    readonly passphrase?: Redacted.Redacted<string>
  }
}

/**
 * Agent options with verification left on. Node replaces its root store when `ca` is given, so the
 * bundled roots are kept and the extra CAs added to them.
 * @internal
 */
export const agentOptions = (options: TlsOptions): Effect.Effect<Https.AgentOptions, TransportError> =>
  Effect.gen(function*() {
    const inline = options.ca === undefined ? [] : typeof options.ca === "string" ? [options.ca] : [...options.ca]
    const caFile = options.caFile
    const fromFile = caFile === undefined ? [] : [
      yield* Effect.tryPromise({
        try: () => Fs.readFile(caFile, "utf8"),
        catch: (error) => new TransportError({ detail: `cannot read the CA file ${caFile}: ${(error as Error).message}` })
      })
    ]
    const extra = [...inline, ...fromFile]
    const client = options.clientCertificate
    return {
      ...(extra.length === 0 ? {} : { ca: [...Tls.rootCertificates, ...extra] }),
      ...(client === undefined ? {} : {
        cert: client.cert,
        key: Redacted.value(client.key),
        ...(client.passphrase === undefined ? {} : { passphrase: Redacted.value(client.passphrase) })
      })
    }
  })
