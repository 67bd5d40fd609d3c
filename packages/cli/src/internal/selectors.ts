import { Options } from "@effect/cli"
import { Config, Option } from "effect"

// Every selector also comes from the environment, so scripts can set them once.
const withEnv = (option: Options.Options<string>, name: string) => option.pipe(Options.withFallbackConfig(Config.nonEmptyString(name)))
const optionalWithEnv = (option: Options.Options<string>, name: string) =>
  option.pipe(Options.withFallbackConfig(Config.option(Config.nonEmptyString(name)).pipe(Config.map(Option.getOrUndefined))))

/**
 * Which server, integration, scope and user a command is about, and where the grant is kept.
 * @internal
 */
export const selectors = {
  url: withEnv(Options.text("url"), "VEDAUTH_URL").pipe(
    Options.withDescription("Base URL of the TPP server, e.g. https://tpp.example.com (VEDAUTH_URL)")
  ),
  clientId: withEnv(Options.text("client-id"), "VEDAUTH_CLIENT_ID").pipe(
    Options.withDescription("The API integration's Application ID (VEDAUTH_CLIENT_ID)")
  ),
  scope: withEnv(Options.text("scope"), "VEDAUTH_SCOPE").pipe(
    Options.withDescription("Scope to request, e.g. 'certificate:manage,revoke;configuration' (VEDAUTH_SCOPE)")
  ),
  username: optionalWithEnv(Options.text("username"), "VEDAUTH_USERNAME").pipe(
    Options.withDescription("Windows user as DOMAIN\\user or user@domain (VEDAUTH_USERNAME)")
  ),
  passwordStdin: Options.boolean("password-stdin").pipe(
    Options.withDescription("Read the password from standard input (else VEDAUTH_PASSWORD, else a prompt on a terminal)")
  ),
  caFile: optionalWithEnv(Options.text("ca-file"), "VEDAUTH_CA_FILE").pipe(
    Options.withDescription("PEM file of extra CA certificates to trust (VEDAUTH_CA_FILE)")
  ),
  store: optionalWithEnv(Options.text("store"), "VEDAUTH_TOKEN_STORE").pipe(
    Options.withDescription("Token store file (VEDAUTH_TOKEN_STORE; default under XDG_STATE_HOME or ~/.local/state)")
  ),
  verbose: Options.boolean("verbose").pipe(Options.withDescription("Say more on errors (never secrets)"))
}

/** @internal */
export const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object"))

/** @internal */
export type Selected = {
  readonly url: string
  readonly clientId: string
  readonly scope: string
  readonly username: string | undefined
  readonly passwordStdin: boolean
  readonly caFile: string | undefined
  readonly store: string | undefined
  readonly verbose: boolean
}
