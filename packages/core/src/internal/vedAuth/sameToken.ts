import { Redacted } from "effect"

/**
 * Whether two redacted tokens are the same token.
 *
 * @internal
 */
export const sameToken = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>): boolean =>
  Redacted.value(a) === Redacted.value(b)
