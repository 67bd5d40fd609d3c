/**
 * The grants of `VedAuth.Options.credentials`, one layer each (docs/grants/*.md). Type-checked
 * with the docs; run one against the simulator with `vedauth simulate`.
 */
import { Credentials } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import * as NodeVedAuth from "@vedauth/platform-node/NodeVedAuth"
import { Console, Effect, Redacted } from "effect"

const server = { url: "https://tpp.example.com", clientId: "vedauth-demo", scope: "certificate:manage" }

/** Password grant (authorize/oauth). */
export const password = NodeVedAuth.layer({
  ...server,
  credentials: Credentials.password,
  username: "CORP\\alice",
  password: Redacted.make("from a vault, never a literal")
})

/** Certificate grant (authorize/certificate): the TLS client certificate is the identity. */
export const certificate = NodeVedAuth.layer({
  ...server,
  credentials: Credentials.certificate,
  transport: { clientCertificateFiles: { cert: "/etc/vedauth/client.pem", key: "/etc/vedauth/client.key" } }
})

/** JWT grant (authorize/jwt): a projected service-account token, read anew at each authorize. */
export const jwt = NodeVedAuth.layer({
  ...server,
  credentials: Credentials.jwtFile("/var/run/secrets/tokens/vedauth")
})

/** Device flow: the person approves at the verification URI. */
export const device = NodeVedAuth.layer({
  ...server,
  credentials: Credentials.device((prompt) =>
    Console.error(`Visit ${prompt.verificationUri} and enter ${prompt.userCode}`)
  )
})

/** Any of them: the managed token re-authorizes with the configured grant when the grant ends. */
export const program = Effect.map(VedAuth.accessToken, (token) => Redacted.value(token).length)
