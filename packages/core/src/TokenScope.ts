/**
 * The scope a token is granted (named apart from Effect's `Scope`) and its grammar:
 * `scope[:privilege[,privilege...]][;scope...]`, e.g. `certificate:manage,revoke;configuration`.
 * A bare scope means read access.
 *
 * @since 0.1.0
 */
import { Data, Effect, Either, ParseResult, Schema } from "effect"
import * as internal from "./internal/tokenScope.js"

/**
 * One scope with its privileges (empty: read only).
 *
 * @since 0.1.0
 * @category models
 */
export interface ScopeEntry {
  readonly name: string
  readonly privileges: ReadonlyArray<string>
}

/**
 * A parsed scope: entries in the order given, names and privileges lower-cased, duplicates merged.
 *
 * @since 0.1.0
 * @category models
 */
export class TokenScope extends Data.Class<{ readonly entries: ReadonlyArray<ScopeEntry> }> {
  /** The canonical text form, as sent to the server. */
  override toString(): string {
    return internal.print(this.entries)
  }
}

/**
 * The scope text could not be parsed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ScopeParseError extends Schema.TaggedError<ScopeParseError>("@vedauth/core/ScopeParseError")(
  "ScopeParseError",
  { input: Schema.String, detail: Schema.String }
) {
  override get message(): string {
    return `${this.detail} in '${this.input}'`
  }
}

/**
 * Parses scope text.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string): Either.Either<TokenScope, ScopeParseError> =>
  Either.map(
    Either.mapLeft(internal.parse(input), (detail) => new ScopeParseError({ input, detail })),
    (entries) => new TokenScope({ entries })
  )

/**
 * Parses scope text, as an Effect.
 *
 * @since 0.1.0
 * @category parsing
 */
export const decode = (input: string): Effect.Effect<TokenScope, ScopeParseError> => parse(input)

/**
 * Builds a scope from a record of scope names to privileges.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (entries: Readonly<Record<string, ReadonlyArray<string>>>): TokenScope =>
  new TokenScope({
    entries: internal.normalize(Object.entries(entries).map(([name, privileges]) => ({ name, privileges })))
  })

/**
 * Prints a scope in canonical form.
 *
 * @since 0.1.0
 * @category printing
 */
export const print = (self: TokenScope): string => internal.print(self.entries)

/**
 * True when every scope and privilege of `self` is also in `that` (a request against an integration,
 * or a granted scope against what was asked).
 *
 * @since 0.1.0
 * @category comparison
 */
export const isSubset: {
  (that: TokenScope): (self: TokenScope) => boolean
  (self: TokenScope, that: TokenScope): boolean
} = internal.dualIsSubset

/**
 * Text <-> `TokenScope`, failing on malformed text.
 *
 * @since 0.1.0
 * @category schemas
 */
export const FromString: Schema.Schema<TokenScope, string> = Schema.transformOrFail(
  Schema.String,
  Schema.declare((u): u is TokenScope => u instanceof TokenScope),
  {
    strict: true,
    decode: (s, _, ast) => Either.mapLeft(parse(s), (e) => new ParseResult.Type(ast, s, e.detail)),
    encode: (scope) => Either.right(internal.print(scope.entries))
  }
)
