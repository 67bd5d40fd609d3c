/**
 * The command line defined once, as data: the options, where each also comes from (an environment
 * variable), and the commands that take them. The parser, the help text and the lean `token` path
 * are all built from these tables, so they cannot disagree. No Effect here: the lean path loads it.
 * @internal
 */

/** @internal */
export interface OptionSpec {
  readonly flag: string
  readonly kind: "string" | "boolean"
  /** The placeholder in usage lines, for string options. */
  readonly value?: string
  /** The environment variable the option falls back to. */
  readonly env?: string
  /** The values it takes, for shell completion (the parser checks them where they are used). */
  readonly choices?: ReadonlyArray<string>
  readonly description: string
}

const option = <const Flag extends string>(spec: OptionSpec & { readonly flag: Flag }) => spec

/** @internal */
export const options = {
  url: option({
    flag: "url",
    kind: "string",
    value: "URL",
    env: "VEDAUTH_URL",
    description: "base URL of TPP, e.g. https://tpp.example.com"
  }),
  clientId: option({
    flag: "client-id",
    kind: "string",
    value: "ID",
    env: "VEDAUTH_CLIENT_ID",
    description: "the API integration's Application ID"
  }),
  scope: option({
    flag: "scope",
    kind: "string",
    value: "SCOPE",
    env: "VEDAUTH_SCOPE",
    description: "e.g. 'certificate:manage,revoke;configuration'"
  }),
  username: option({
    flag: "username",
    kind: "string",
    value: "USER",
    env: "VEDAUTH_USERNAME",
    description: "Windows user, DOMAIN\\user or user@domain"
  }),
  caFile: option({
    flag: "ca-file",
    kind: "string",
    value: "PEM",
    env: "VEDAUTH_CA_FILE",
    description: "extra CA certificates to trust (TLS is always verified)"
  }),
  store: option({
    flag: "store",
    kind: "string",
    value: "FILE|URL",
    env: "VEDAUTH_TOKEN_STORE",
    description:
      "token store file (default ~/.local/state/vedauth/tokens.json), or a redis:// or rediss:// URL to share (VEDAUTH_STORE_KEY, _PREFIX, _CA: see the docs)"
  }),
  profile: option({
    flag: "profile",
    kind: "string",
    value: "NAME",
    env: "VEDAUTH_PROFILE",
    description: "named set of selectors saved by login (default: the current one)"
  }),
  allowHttp: option({
    flag: "allow-http",
    kind: "boolean",
    env: "VEDAUTH_ALLOW_HTTP",
    description:
      "allow plain http:// to a host that is not loopback (the NTLM exchange and tokens travel in clear; set the variable to 1)"
  }),
  proxy: option({
    flag: "proxy",
    kind: "string",
    value: "URL",
    env: "VEDAUTH_PROXY",
    description:
      "HTTP proxy for every call to TPP, http://host:port (else HTTPS_PROXY); a proxy password only in the variables"
  }),
  noProxy: option({
    flag: "no-proxy",
    kind: "string",
    value: "LIST",
    env: "VEDAUTH_NO_PROXY",
    description: "hosts reached directly, as NO_PROXY: names, .domains, addresses, CIDR, host:port, or *"
  }),
  passwordStdin: option({
    flag: "password-stdin",
    kind: "boolean",
    description: "read the password from standard input (else VEDAUTH_PASSWORD, else a prompt on a terminal)"
  }),
  json: option({ flag: "json", kind: "boolean", description: "print one JSON object" }),
  all: option({ flag: "all", kind: "boolean", description: "every stored grant, not only the selected one" }),
  force: option({
    flag: "force",
    kind: "boolean",
    description: "remove a grant from the store even when revoking it failed (it stays valid at the server)"
  }),
  port: option({ flag: "port", kind: "string", value: "N", description: "port on 127.0.0.1 (default: a free one)" }),
  tls: option({
    flag: "tls",
    kind: "boolean",
    description: "serve HTTPS with a certificate from a fresh throwaway CA"
  }),
  certOut: option({
    flag: "cert-out",
    kind: "string",
    value: "FILE",
    description: "with --tls: write the CA certificate (PEM) here, for --ca-file"
  }),
  help: option({ flag: "help", kind: "boolean", description: "show this help" }),
  mechanism: option({
    flag: "mechanism",
    kind: "string",
    value: "MECH",
    env: "VEDAUTH_MECHANISM",
    choices: ["negotiate", "kerberos", "ntlm"],
    description: "negotiate (default: Kerberos when it is set up, else NTLM), kerberos or ntlm"
  }),
  realm: option({
    flag: "realm",
    kind: "string",
    value: "REALM",
    env: "VEDAUTH_REALM",
    description: "the user's Kerberos realm (else krb5.conf default_realm)"
  }),
  kdc: option({
    flag: "kdc",
    kind: "string",
    value: "HOST[:PORT]",
    env: "VEDAUTH_KDC",
    description: "Kerberos KDCs, comma-separated (else krb5.conf [realms], else DNS SRV)"
  }),
  spn: option({
    flag: "spn",
    kind: "string",
    value: "SPN",
    env: "VEDAUTH_SPN",
    description: "the server's Kerberos name (default HTTP/<host of the URL>)"
  }),
  keytab: option({
    flag: "keytab",
    kind: "string",
    value: "FILE",
    env: "VEDAUTH_KEYTAB",
    description: "a keytab with the user's key, no password needed (else KRB5_CLIENT_KTNAME)"
  }),
  systemKerberos: option({
    flag: "system-kerberos",
    kind: "boolean",
    env: "VEDAUTH_SYSTEM_KERBEROS",
    description:
      "the operating system's own Kerberos tickets (KCM:, KEYRING:, Windows logon) through the optional kerberos addon installed beside vedauth; set the variable to 1"
  }),
  kerberos: option({
    flag: "kerberos",
    kind: "boolean",
    description: "also run a Kerberos realm and its KDC on 127.0.0.1"
  }),
  keytabOut: option({
    flag: "keytab-out",
    kind: "string",
    value: "FILE",
    description: "with --kerberos: write the demo user's keytab here (default: a new temp folder)"
  }),
  grant: option({
    flag: "grant",
    kind: "string",
    value: "GRANT",
    env: "VEDAUTH_GRANT",
    choices: ["integrated", "password", "certificate", "jwt", "device"],
    description: "how to authorize: integrated (default), password, certificate, jwt or device"
  }),
  jwtFile: option({
    flag: "jwt-file",
    kind: "string",
    value: "FILE",
    env: "VEDAUTH_JWT_FILE",
    description: "with --grant jwt: the file holding the JWT (read anew at each authorize)"
  }),
  clientCert: option({
    flag: "client-cert",
    kind: "string",
    value: "PEM",
    env: "VEDAUTH_CLIENT_CERT",
    description: "with --grant certificate: the TLS client certificate"
  }),
  clientKey: option({
    flag: "client-key",
    kind: "string",
    value: "PEM",
    env: "VEDAUTH_CLIENT_KEY",
    description: "with --grant certificate: the client certificate's private key"
  }),
  clientCa: option({
    flag: "client-ca",
    kind: "string",
    value: "PEM",
    description: "with --tls: accept client certificates this CA issued (certificate grant)"
  }),
  clientCertOut: option({
    flag: "client-cert-out",
    kind: "string",
    value: "FILE",
    description: "with --tls: write a client certificate for the demo user here (certificate grant)"
  }),
  clientKeyOut: option({
    flag: "client-key-out",
    kind: "string",
    value: "FILE",
    description: "with --client-cert-out: write its private key here"
  }),
  jwtKey: option({
    flag: "jwt-key",
    kind: "string",
    value: "PEM",
    description: "trust JWTs signed by this RS256 key (public key PEM; jwt grant)"
  }),
  jwtOut: option({
    flag: "jwt-out",
    kind: "string",
    value: "FILE",
    description: "write a JWT for the demo user, good for a day, here (jwt grant)"
  }),
  deviceApproveAfter: option({
    flag: "device-approve-after",
    kind: "string",
    value: "N",
    description: "approve each device code on the poll after N polls (device grant)"
  }),
  deviceInterval: option({
    flag: "device-interval",
    kind: "string",
    value: "SECONDS",
    description: "seconds between device polls the server asks for (default 5)"
  })
} as const

/** @internal */
export type OptionKey = keyof typeof options

/** The selectors: which server, integration, scope and user, and where grants and profiles are kept. @internal */
export const selectorKeys = [
  "url",
  "clientId",
  "scope",
  "username",
  "caFile",
  "store",
  "profile",
  "mechanism",
  "realm",
  "kdc",
  "spn",
  "keytab",
  "grant",
  "jwtFile",
  "clientCert",
  "clientKey"
] as const

/** @internal */
export type SelectorKey = (typeof selectorKeys)[number]

/** @internal */
export interface CommandSpec {
  readonly name: string
  readonly summary: string
  readonly options: ReadonlyArray<OptionKey>
  /** The selectors a command cannot run without (from the flag, the variable or the profile). */
  readonly required?: ReadonlyArray<SelectorKey>
  /** Text under the options in `vedauth help <command>`. */
  readonly notes?: string
  /**
   * What follows the options: `"command"`, a command and its arguments after `--` (everything after
   * it is the command's, never parsed as ours); or the words a command takes (`completion bash`).
   */
  readonly operands?: { readonly _tag: "Command" } | {
    readonly _tag: "Words"
    readonly usage: string
    readonly values: ReadonlyArray<string>
  }
  /** Left out of the help and the completions: the completion scripts' own helpers. */
  readonly hidden?: boolean
}

const server = [...selectorKeys, "allowHttp", "proxy", "noProxy", "systemKerberos"] as const
const needed = ["url", "clientId", "scope"] as const

/** @internal */
export const commands: ReadonlyArray<CommandSpec> = [
  {
    name: "login",
    summary: "authorize (Integrated Windows Authentication, or --grant), store the grant, make it the current one",
    options: [...server, "passwordStdin", "json"],
    required: needed,
    notes: "The selectors are saved in the profile (--profile, default: the current one, else 'default'),\n" +
      "which becomes current: later commands need no selectors. Never prints a token.\n" +
      "The integrated and password grants need --username; certificate needs --client-cert and --client-key,\n" +
      "jwt needs --jwt-file; device prints a code and a URI on stderr and waits for a person to approve.\n" +
      "With a keytab (--keytab, KRB5_CLIENT_KTNAME) or a kinit cache (KRB5CCNAME, or krb5.conf's KCM:)\n" +
      "no password is asked for, and --username may be left out: the user is the principal they name.\n" +
      "Without --profile, login takes the server, client, scope, user and CA from the current profile but\n" +
      "never how to prove who you are: a keytab, cache, certificate or JWT file is used only when this\n" +
      "command line or its environment names it (stderr notes one passed over); --profile NAME uses all."
  },
  {
    name: "token",
    summary: "print a valid access token and a newline (refreshed or re-authorized as needed)",
    options: [...server, "passwordStdin", "json"],
    required: needed,
    notes: "With --json: {\"access_token\": ..., \"expires\": <epoch seconds>}. With no grant stored (a fresh\n" +
      "machine, or after logout) it is NotLoggedIn (exit 2), unless this call gives the password or names a\n" +
      "keytab, cache or grant. With no selectors and no profile, the one stored grant is used."
  },
  {
    name: "run",
    summary: "run a command with a valid access token in its environment, never in its arguments",
    options: [...server, "passwordStdin"],
    required: needed,
    operands: { _tag: "Command" },
    notes: "The token comes as for `vedauth token`. The command gets it in VEDAUTH_ACCESS_TOKEN, VCERT_TOKEN and\n" +
      "VDC_TOKEN, the server in VCERT_URL and VDC_SERVER, the CA file (--ca-file) in VCERT_TRUST_BUNDLE, so\n" +
      "vcert and VenafiPS need no token flag. VEDAUTH_PASSWORD, VEDAUTH_STORE_KEY, and VEDAUTH_TOKEN_STORE\n" +
      "or VEDAUTH_PROXY when they carry a password, are removed from its environment. Standard input,\n" +
      "output and error are the command's; SIGINT, SIGTERM and SIGHUP are passed on to it. The exit code\n" +
      "is the command's (128 + N when signal N ended it); 127 when it cannot be started.\n" +
      "With --password-stdin the password is read from standard input first, to its end."
  },
  {
    name: "verify",
    summary: "ask the server about the stored access token",
    options: [...server, "json"],
    required: needed
  },
  {
    name: "refresh",
    summary: "exchange the stored refresh token for a new pair now",
    options: [...server, "json"],
    required: needed
  },
  {
    name: "revoke",
    summary: "revoke the stored grant at the server and forget it",
    options: [...server, "json"],
    required: needed
  },
  {
    name: "logout",
    summary: "revoke the grant (or --all) at the server and remove it from the store",
    options: [...server, "all", "force", "json"],
    notes: "What became of each grant goes to stderr, one line each (with --json also to stdout). A grant\n" +
      "whose revoke failed (TLS trust, the server unreachable or slow, an unexpected answer) stays stored,\n" +
      "so that logout can run again once that is fixed; --force removes it anyway. Either way the command\n" +
      "exits with that failure's code. --ca-file and --allow-http apply to every grant, with --all too."
  },
  {
    name: "status",
    summary: "list every stored grant (never a token)",
    options: ["store", "profile", "json"]
  },
  {
    name: "simulate",
    summary: "run the TPP simulator in the foreground on 127.0.0.1",
    options: [
      "port",
      "tls",
      "certOut",
      "kerberos",
      "keytabOut",
      "clientCa",
      "clientCertOut",
      "clientKeyOut",
      "jwtKey",
      "jwtOut",
      "deviceApproveAfter",
      "deviceInterval"
    ],
    notes: "The first line of stdout is its URL; its demo credentials go to stderr, with the files the\n" +
      "--*-out options wrote (the docs show each grant against the simulator: see vedauth help)."
  },
  {
    name: "completion",
    summary: "print a completion script for bash, zsh or fish",
    options: [],
    operands: { _tag: "Words", usage: "bash|zsh|fish", values: ["bash", "zsh", "fish"] },
    notes: "bash: source <(vedauth completion bash), e.g. in ~/.bashrc.\n" +
      "zsh:  vedauth completion zsh > \"${fpath[1]}/_vedauth\" (then compinit), or source <(vedauth completion zsh).\n" +
      "fish: vedauth completion fish > ~/.config/fish/completions/vedauth.fish\n" +
      "Profile names for --profile come from `vedauth __profiles`, which prints them one per line."
  },
  {
    name: "__profiles",
    summary: "print the profile names, one per line (for the completion scripts)",
    options: ["store"],
    hidden: true
  },
  { name: "demo", summary: "run a token's whole life against an embedded simulator, step by step", options: [] },
  { name: "help", summary: "show help for vedauth or one of its commands", options: [] }
]

/** @internal */
export const findCommand = (name: string): CommandSpec | undefined => commands.find((command) => command.name === name)

/** The parsed options of one command line, by key. @internal */
export type Flags = Partial<Record<OptionKey, string | boolean>>
