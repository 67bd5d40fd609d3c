import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as TokenScope from "../src/TokenScope.js"

const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
const entries = fc.uniqueArray(fc.record({ name: word, privileges: fc.uniqueArray(word, { maxLength: 4 }) }), {
  minLength: 1,
  maxLength: 5,
  selector: (e) => e.name
})
const text = entries.map((es) =>
  es.map((e) => (e.privileges.length === 0 ? e.name : `${e.name}:${e.privileges.join(",")}`)).join(";")
)

describe("Scope", () => {
  it("print(parse(x)) round trips for canonical text", () => {
    fc.assert(fc.property(text, (t) => {
      const parsed = TokenScope.parse(t)
      assert.isTrue(Either.isRight(parsed))
      assert.strictEqual(TokenScope.print(Either.getOrThrow(parsed)), t)
    }))
  })

  it("parse(print(s)) is s, and every scope is a subset of itself", () => {
    fc.assert(fc.property(entries, (es) => {
      const scope = TokenScope.make(Object.fromEntries(es.map((e) => [e.name, e.privileges])))
      const again = Either.getOrThrow(TokenScope.parse(TokenScope.print(scope)))
      assert.strictEqual(TokenScope.print(again), TokenScope.print(scope))
      assert.isTrue(TokenScope.isSubset(scope, scope))
    }))
  })

  it("dropping an entry or privilege gives a subset, not the other way round", () => {
    fc.assert(fc.property(text, (t) => {
      const full = Either.getOrThrow(TokenScope.parse(t))
      const first = full.entries[0]!
      const smaller = new TokenScope.TokenScope({
        entries: [{ name: first.name, privileges: first.privileges.slice(1) }]
      })
      assert.isTrue(TokenScope.isSubset(smaller, full))
      if (first.privileges.length > 0) assert.isFalse(TokenScope.isSubset(full, smaller))
    }))
  })

  it("case, spaces and a trailing ';' are normalised", () => {
    assert.strictEqual(
      TokenScope.print(Either.getOrThrow(TokenScope.parse(" Certificate:Manage, revoke ; configuration;"))),
      "certificate:manage,revoke;configuration"
    )
  })

  it("malformed text is a typed ScopeParseError, never an exception", () => {
    for (const bad of ["", ";", "certificate:", "a;;b", "1abc", "cert:man age"]) {
      const result = TokenScope.parse(bad)
      assert.isTrue(Either.isLeft(result), bad)
      if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "ScopeParseError")
    }
    fc.assert(fc.property(fc.string(), (s) => {
      TokenScope.parse(s)
    }))
  })
})
