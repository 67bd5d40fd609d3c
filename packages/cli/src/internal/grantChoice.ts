/**
 * Which grant a command authorizes with (`--grant`, `VEDAUTH_GRANT`, else the profile; default
 * integrated) and the files it needs (`--jwt-file`, `--client-cert`, `--client-key`), checked before
 * anything is sent. Also which `user` of the token store's key holds each grant's tokens: core keys
 * the certificate, JWT and device grants by the grant's name (`jwt:`), the others by the Windows user.
 * Plain code, no Effect: the lean `token` path uses it too.
 * @internal
 */
import type { GrantName } from "@vedauth/core/Credentials"
import { accessSync, constants, statSync } from "node:fs"
import { resolve } from "node:path"
import type { Selected, Selection } from "./selection.js"
import type { Flags } from "./spec.js"
import { didYouMean } from "./suggest.js"
import { safeText } from "./terminalText.js"

/** @internal */
export const grantNames = ["integrated", "password", "certificate", "jwt", "device"] as const satisfies ReadonlyArray<
  GrantName
>

/** A grant and its files (absolute paths), as a command uses it and `login` saves it. @internal */
export interface GrantChoice {
  readonly name: GrantName
  readonly jwtFile?: string
  readonly clientCert?: string
  readonly clientKey?: string
}

/** The grants that send a Windows user and password. @internal */
export const usesPassword = (name: GrantName): boolean => name === "integrated" || name === "password"

/** The user of the store key core files this grant under, when it is not the Windows user (`jwt:`). @internal */
export const grantKeyUser = (name: GrantName): string | undefined => (usesPassword(name) ? undefined : `${name}:`)

/** True for a stored key's user that is a grant's name rather than a Windows account. @internal */
export const isGrantKeyUser = (user: string): boolean =>
  grantNames.some((name) => !usesPassword(name) && user === `${name}:`)

/** A stored key's user as text says it: `corp\alice`, or `the certificate grant` for `certificate:`. @internal */
export const keyUserText = (
  user: string
): string => (isGrantKeyUser(user) ? `the ${user.slice(0, -1)} grant` : safeText(user))

/** @internal */
export const isGrantName = (text: string): text is GrantName => (grantNames as ReadonlyArray<string>).includes(text)

// A JWT or a PEM certificate and key are a few KiB: anything far larger is not one.
const maxFileBytes = 1024 * 1024

// Follows a symbolic link on purpose (a Kubernetes projected token is one), but reads nothing that
// could block (a FIFO, a device) or is not a file: core reads the file later, and must not hang.
const fileProblem = (path: string): string | undefined => {
  try {
    const info = statSync(path)
    if (!info.isFile()) return "it is not a regular file"
    if (info.size > maxFileBytes) return `it is larger than ${maxFileBytes} bytes`
    accessSync(path, constants.R_OK)
    return undefined
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : "it cannot be read"
  }
}

/** The grant, or a usage problem (a sentence ending with the flag or variable to look at). @internal */
export type GrantResult = { readonly _tag: "Choice"; readonly choice: GrantChoice } | {
  readonly _tag: "Problem"
  readonly detail: string
}

const problem = (detail: string): GrantResult => ({ _tag: "Problem", detail })

const files = {
  jwtFile: { what: "JWT file", flag: "--jwt-file", env: "VEDAUTH_JWT_FILE", grant: "jwt" },
  clientCert: {
    what: "client certificate file",
    flag: "--client-cert",
    env: "VEDAUTH_CLIENT_CERT",
    grant: "certificate"
  },
  clientKey: { what: "client key file", flag: "--client-key", env: "VEDAUTH_CLIENT_KEY", grant: "certificate" }
} as const

type FileKey = keyof typeof files

const needs: Readonly<Record<GrantName, ReadonlyArray<FileKey>>> = {
  integrated: [],
  password: [],
  certificate: ["clientCert", "clientKey"],
  jwt: ["jwtFile"],
  device: []
}

const checkedFile = (
  key: FileKey,
  selected: Selected | undefined,
  grant: GrantName
): { readonly path: string } | { readonly problem: string } => {
  const spec = files[key]
  if (selected === undefined) {
    return { problem: `the ${grant} grant needs the ${spec.what} (${spec.flag} or ${spec.env})` }
  }
  const why = fileProblem(selected.value)
  return why === undefined
    ? { path: resolve(selected.value) }
    : { problem: `cannot read the ${spec.what} '${safeText(selected.value)}': ${why} (${selected.from})` }
}

/**
 * The grant of a command from its selection (flag, else variable, else profile), with the files it
 * needs present, readable regular files. A file flag given for another grant, and
 * `--password-stdin` for a grant that asks for no password, are mistakes worth saying.
 * @internal
 */
export const chooseGrant = (flags: Flags, selection: Selection): GrantResult => {
  const given = selection.grant
  if (given !== undefined && !isGrantName(given.value)) {
    return problem(
      `'${safeText(given.value)}' is not a grant${didYouMean(given.value, grantNames)}: use ${
        grantNames.slice(0, -1).join(", ")
      } or ${grantNames.at(-1)} (${given.from})`
    )
  }
  const name: GrantName = given === undefined ? "integrated" : (given.value as GrantName)
  if (flags.passwordStdin === true && !usesPassword(name)) {
    return problem(`the ${name} grant asks for no password (--password-stdin)`)
  }
  for (const key of Object.keys(files) as Array<FileKey>) {
    if (typeof flags[key] === "string" && !needs[name].includes(key)) {
      return problem(
        `${files[key].flag} is for the ${files[key].grant} grant: add --grant ${files[key].grant} (${files[key].flag})`
      )
    }
  }
  const choice: { name: GrantName } & { -readonly [K in FileKey]?: string } = { name }
  for (const key of needs[name]) {
    const checked = checkedFile(key, selection[key], name)
    if ("problem" in checked) return problem(checked.problem)
    choice[key] = checked.path
  }
  return { _tag: "Choice", choice }
}

/**
 * What `login` saves in the profile for this grant: the Windows user for the grants that have one,
 * else the grant and its files, so that later commands renew the same way without flags.
 * @internal
 */
export const grantProfile = (
  grant: GrantChoice,
  user: string
): Partial<Record<"username" | "grant" | FileKey, string>> => ({
  ...(usesPassword(grant.name) ? { username: user } : {}),
  ...(grant.name === "integrated" ? {} : { grant: grant.name }),
  ...(grant.jwtFile === undefined ? {} : { jwtFile: grant.jwtFile }),
  ...(grant.clientCert === undefined ? {} : { clientCert: grant.clientCert }),
  ...(grant.clientKey === undefined ? {} : { clientKey: grant.clientKey })
})

/** True when a profile (its saved grant, default integrated) is about a stored key's user. @internal */
export const profileGrantOwns = (profileGrant: string | undefined, user: string): boolean => {
  const name = profileGrant !== undefined && isGrantName(profileGrant) ? profileGrant : "integrated"
  const keyUser = grantKeyUser(name)
  return keyUser === undefined ? !isGrantKeyUser(user) : user === keyUser
}
