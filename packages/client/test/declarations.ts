// Compiled by `pnpm typecheck`: the implementation must match the hand-written public declarations.
import type * as Declared from "../index.js"
import * as Implementation from "../src/index.js"

const module: {
  readonly VedAuthClient: typeof Declared.VedAuthClient
  readonly VedAuthClientError: typeof Declared.VedAuthClientError
} = Implementation
const options: Declared.VedAuthClientOptions = {
  url: "https://tpp.example",
  clientId: "app",
  scope: "certificate:manage"
}
const implementationOptions: Implementation.VedAuthClientOptions = options
const grant = (client: Implementation.VedAuthClient): Promise<Declared.VedAuthGrant> => client.grant()
const revoke = (client: Implementation.VedAuthClient): Promise<Declared.RevokeResult> => client.revoke()

export { grant, implementationOptions, module, revoke }
