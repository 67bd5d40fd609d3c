/**
 * Which principal and realm a user name means, for every form users write: `CORP\alice` (a NetBIOS
 * domain, as Windows users write it), `corp.example\alice`, `alice@corp.example` (a UPN or a
 * principal), `alice`. In order: a realm given (option, flag, variable, profile) wins; then the
 * platform's Kerberos configuration (krb5.conf `default_realm`, then `[domain_realm]` for the
 * server's host); then what the KDC answers to a canonicalized or enterprise name (RFC 6806, the
 * engine checks the answer); a NetBIOS domain or the server's DNS domain only as a last guess, which
 * the errors then name.
 * @internal
 */
import { Kerberos as Engine, Krb5Conf } from "@vedauth/winauth"
import { Either } from "effect"
import { KerberosError } from "../../KerberosError.js"
import { realmGuessFailed } from "../ntlmFallback.js"
import { step } from "./failures.js"

/** @internal */
export interface ClientName {
  /** The name and the realm whose KDC is asked first. */
  readonly principal: Engine.Principal
  /** Sent as NT-ENTERPRISE (`principal.name` is then one `user@suffix` component). */
  readonly enterprise: boolean
  /** Why the realm is a guess (no realm given or configured), for the error when it fails. */
  readonly guess: string | undefined
}

/** @internal */
export interface ClientContext {
  /** The realm given (option, flag, variable, profile). */
  readonly realm: string | undefined
  readonly conf: Krb5Conf.Krb5Conf
  /** The host of the service's SPN (`tpp.corp.example`), for `[domain_realm]` and the last guess. */
  readonly serviceHost: string | undefined
  /**
   * Whether an enterprise name may be sent: with a password (the KDC sends the salt). A keytab's
   * keys are stored under the plain name, so that name is asked for (still canonicalized).
   */
  readonly enterpriseAllowed: boolean
  /** The realm of the Windows logon session (`USERDNSDOMAIN`), when there is one. */
  readonly logonRealm?: string | undefined
}

const plain = (user: string, realm: string, guess?: string): Either.Either<ClientName, KerberosError> =>
  Either.map(step(() => Engine.parsePrincipal(user, realm)), (principal) => ({ principal, enterprise: false, guess }))

const enterpriseName = (
  context: ClientContext,
  user: string,
  suffix: string,
  realm: string,
  guess?: string
): Either.Either<ClientName, KerberosError> =>
  context.enterpriseAllowed
    ? Either.map(
      step(() => Engine.parsePrincipal(user, realm)),
      () => ({ principal: { name: [`${user}@${suffix}`], realm: realm.toUpperCase() }, enterprise: true, guess })
    )
    : plain(user, realm, guess)

/**
 * The realm the platform names: krb5.conf's `default_realm`, else its `[domain_realm]` for the
 * server's host, else the Windows logon's `USERDNSDOMAIN` (set for every domain logon).
 */
const configuredRealm = (context: ClientContext): string | undefined =>
  context.conf.defaultRealm ??
    (context.serviceHost === undefined ? undefined : Krb5Conf.realmOfHost(context.conf, context.serviceHost)) ??
    context.logonRealm

const isIpAddress = (host: string) => /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.includes(":")

const sameRealm = (a: string, b: string) => a.toUpperCase() === b.toUpperCase()

/** `DOMAIN\user`: a NetBIOS domain is almost never the realm; a DNS domain is (Active Directory's rule). */
const fromDomainForm = (text: string, domain: string, user: string, context: ClientContext) => {
  if (domain === "") {
    return Either.left(new KerberosError({ reason: "BAD_PRINCIPAL", detail: `"${text}" has an empty domain` }))
  }
  if (context.realm !== undefined) return plain(user, context.realm)
  if (domain.includes(".")) return plain(user, domain)
  const configured = configuredRealm(context)
  if (configured !== undefined) {
    // CORP with CORP.EXAMPLE: the domain's own realm. Another NetBIOS name: the KDC resolves it
    // (Active Directory knows every domain of its forest), as Windows asks for `alice@CORP`.
    return sameRealm(configured.split(".")[0]!, domain)
      ? plain(user, configured)
      : enterpriseName(context, user, domain, configured)
  }
  return enterpriseName(
    context,
    user,
    domain,
    domain,
    `the NetBIOS domain of ${text}, as no realm is given or configured`
  )
}

/**
 * `user@suffix`: the realm it names (upper-cased; the KDC canonicalizes it, as Active Directory
 * answers `alice@corp.example` with CORP.EXAMPLE). With a realm given that is not the suffix, a UPN
 * for that realm (NT-ENTERPRISE, as Windows sends `alice@example.com` to its own domain's KDC).
 */
const fromAtForm = (user: string, suffix: string, context: ClientContext) =>
  context.realm === undefined || sameRealm(suffix, context.realm)
    ? plain(user, context.realm ?? suffix)
    : enterpriseName(context, user, suffix, context.realm)

/** `user`: the given or configured realm, else the server's DNS domain as a guess (as MIT's client guesses). */
const fromBareName = (text: string, context: ClientContext) => {
  const realm = context.realm ?? configuredRealm(context)
  if (realm !== undefined) return plain(text, realm)
  const host = context.serviceHost
  const dot = host === undefined || isIpAddress(host) ? -1 : host.indexOf(".")
  if (host === undefined || dot < 0) return plain(text, "")
  return plain(text, host.slice(dot + 1), `the DNS domain of the server ${host}, as no realm is given or configured`)
}

/**
 * The client principal for a user name, and whether its realm is a guess.
 * @internal
 */
export const clientName = (text: string, context: ClientContext): Either.Either<ClientName, KerberosError> => {
  const backslash = text.indexOf("\\")
  if (backslash >= 0) return fromDomainForm(text, text.slice(0, backslash), text.slice(backslash + 1), context)
  const at = text.lastIndexOf("@")
  if (at >= 0) return fromAtForm(text.slice(0, at), text.slice(at + 1), context)
  return fromBareName(text, context)
}

/**
 * The failure of an exchange whose realm was a guess, said as such: which realm was tried, why,
 * and how to set it.
 * @internal
 */
export const guessFailed = (
  client: ClientName,
  guess: string,
  cause: { readonly detail?: string | undefined; readonly message: string },
  serviceHost: string | undefined
) =>
  new KerberosError({
    reason: realmGuessFailed,
    detail: `${cause.detail ?? cause.message}; the realm ${client.principal.realm} was only a guess (${guess})`,
    hint:
      `give the realm: vedauth --realm REALM (or VEDAUTH_REALM, a profile's realm, the kerberos.realm option), or set default_realm${
        serviceHost === undefined ? "" : ` (or [domain_realm] for ${serviceHost})`
      } in krb5.conf`
  })

/**
 * Whether a user name means a principal: `CORP\alice`, `alice@corp.example` and `alice` all mean
 * `alice@CORP.EXAMPLE` (a NetBIOS domain is the realm's first label), case aside: a credential
 * cache's owner is the user so named.
 * @internal
 */
export const namesPrincipal = (user: string, principal: string): boolean => {
  const at = principal.lastIndexOf("@")
  const [name, realm] = [principal.slice(0, at).toLowerCase(), principal.slice(at + 1).toLowerCase()]
  const backslash = user.indexOf("\\")
  const userAt = user.lastIndexOf("@")
  const [userName, domain] = backslash >= 0
    ? [user.slice(backslash + 1), user.slice(0, backslash)]
    : userAt >= 0
    ? [user.slice(0, userAt), user.slice(userAt + 1)]
    : [user, ""]
  const d = domain.toLowerCase()
  return userName.toLowerCase() === name && (d === "" || d === realm || d === realm.split(".")[0])
}
