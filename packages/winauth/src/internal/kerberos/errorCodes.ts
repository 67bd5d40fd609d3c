/**
 * KRB-ERROR codes (RFC 4120 section 7.5.9) by name, and what a user can do about the ones they can fix.
 */

const names: Record<number, string> = {
  1: "KDC_ERR_NAME_EXP",
  2: "KDC_ERR_SERVICE_EXP",
  3: "KDC_ERR_BAD_PVNO",
  6: "KDC_ERR_C_PRINCIPAL_UNKNOWN",
  7: "KDC_ERR_S_PRINCIPAL_UNKNOWN",
  8: "KDC_ERR_PRINCIPAL_NOT_UNIQUE",
  9: "KDC_ERR_NULL_KEY",
  10: "KDC_ERR_CANNOT_POSTDATE",
  11: "KDC_ERR_NEVER_VALID",
  12: "KDC_ERR_POLICY",
  13: "KDC_ERR_BADOPTION",
  14: "KDC_ERR_ETYPE_NOSUPP",
  15: "KDC_ERR_SUMTYPE_NOSUPP",
  16: "KDC_ERR_PADATA_TYPE_NOSUPP",
  18: "KDC_ERR_CLIENT_REVOKED",
  19: "KDC_ERR_SERVICE_REVOKED",
  20: "KDC_ERR_TGT_REVOKED",
  21: "KDC_ERR_CLIENT_NOTYET",
  22: "KDC_ERR_SERVICE_NOTYET",
  23: "KDC_ERR_KEY_EXPIRED",
  24: "KDC_ERR_PREAUTH_FAILED",
  25: "KDC_ERR_PREAUTH_REQUIRED",
  26: "KDC_ERR_SERVER_NOMATCH",
  27: "KDC_ERR_MUST_USE_USER2USER",
  29: "KDC_ERR_SVC_UNAVAILABLE",
  31: "KRB_AP_ERR_BAD_INTEGRITY",
  32: "KRB_AP_ERR_TKT_EXPIRED",
  33: "KRB_AP_ERR_TKT_NYV",
  34: "KRB_AP_ERR_REPEAT",
  35: "KRB_AP_ERR_NOT_US",
  36: "KRB_AP_ERR_BADMATCH",
  37: "KRB_AP_ERR_SKEW",
  38: "KRB_AP_ERR_BADADDR",
  39: "KRB_AP_ERR_BADVERSION",
  40: "KRB_AP_ERR_MSG_TYPE",
  41: "KRB_AP_ERR_MODIFIED",
  44: "KRB_AP_ERR_BADKEYVER",
  45: "KRB_AP_ERR_NOKEY",
  46: "KRB_AP_ERR_MUT_FAIL",
  50: "KRB_AP_ERR_INAPP_CKSUM",
  52: "KRB_ERR_RESPONSE_TOO_BIG",
  60: "KRB_ERR_GENERIC",
  61: "KRB_ERR_FIELD_TOOLONG",
  68: "KDC_ERR_WRONG_REALM"
}

/** Codes that mean "these credentials were refused": mapped to `AuthenticationFailed`. @internal */
export const credentialRefusals: ReadonlySet<number> = new Set([6, 18, 23, 24, 31])

/** @internal */
export const errorName = (code: number): string => names[code] ?? `KRB_ERROR_${code}`

/** @internal */
export const ErrorCode = {
  cPrincipalUnknown: 6,
  sPrincipalUnknown: 7,
  etypeNosupp: 14,
  keyExpired: 23,
  preauthFailed: 24,
  preauthRequired: 25,
  badIntegrity: 31,
  tktExpired: 32,
  tktNyv: 33,
  repeat: 34,
  badmatch: 36,
  skew: 37,
  modified: 41,
  badkeyver: 44,
  nokey: 45,
  mutFail: 46,
  inappCksum: 50,
  generic: 60,
  wrongRealm: 68
} as const

/** A hint for the errors a user can fix, given who was asked for what. @internal */
export const hintFor = (
  code: number,
  context: { readonly client: string; readonly server: string; readonly skewSeconds?: number }
): string | undefined => {
  switch (code) {
    case ErrorCode.sPrincipalUnknown:
      return `no SPN ${context.server} is registered with the KDC: register it on the server's account (setspn -S ${
        context.server.split("@")[0]
      } <account>) or pass the SPN the server has`
    case ErrorCode.cPrincipalUnknown:
      return `the KDC does not know ${context.client}: check the user name and realm`
    case ErrorCode.skew:
      return context.skewSeconds === undefined
        ? "the clocks of this host and the KDC or server differ by more than the allowed skew (5 minutes by default): synchronise them (NTP)"
        : `this host's clock is ${Math.abs(context.skewSeconds)} s ${
          context.skewSeconds > 0 ? "behind" : "ahead of"
        } the peer's, more than the allowed skew (5 minutes by default): synchronise the clocks (NTP)`
    case ErrorCode.etypeNosupp:
      return "the KDC offers none of aes256-cts-hmac-sha384-192, aes256/aes128-cts-hmac-sha1-96, aes128-cts-hmac-sha256-128 for this principal: enable AES for the account"
    case ErrorCode.keyExpired:
      return `the password of ${context.client} has expired: change it`
    case ErrorCode.wrongRealm:
      return "the realm is wrong for this principal: pass the realm the account lives in"
    case ErrorCode.tktExpired:
      return "the ticket has expired: get a new one (kinit, or remove the cached ticket)"
    default:
      return undefined
  }
}
