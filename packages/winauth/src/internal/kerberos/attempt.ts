/**
 * Runs a decoder on a peer's bytes: a `Malformed` (or any other exception a decoder might raise on
 * bytes it was never meant to see) becomes a `KerberosFailure` named `MALFORMED`, so that the
 * engine's callers see only its own failures.
 */
import { KerberosFailure } from "../../Failure.js"
import { Malformed } from "../ntlm/bytes.js"

/** @internal */
export const malformed = (what: string, detail: string) =>
  new KerberosFailure({ reason: "MALFORMED", detail: `${what}: ${detail}` })

/** @internal */
export const attempt = <A>(what: string, decode: () => A): A => {
  try {
    return decode()
  } catch (e) {
    if (e instanceof KerberosFailure) throw e
    throw malformed(what, e instanceof Malformed ? e.detail : e instanceof Error ? e.message : String(e))
  }
}

/** For a server reading a request: `undefined` when the bytes do not decode (it answers with a KRB-ERROR). @internal */
export const tryOrUndefined = <A>(decode: () => A): A | undefined => {
  try {
    return decode()
  } catch {
    return undefined
  }
}
