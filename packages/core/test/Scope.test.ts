import { assert, describe, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as Scope from "../src/Scope.js"

const word = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/)
const entries = fc.uniqueArray(fc.record({ name: word, privileges: fc.uniqueArray(word, { maxLength: 4 }) }), {
  minLength: 1,
  maxLength: 5,
  selector: (e) => e.name
})
const text = entries.map((es) => es.map((e) => (e.privileges.length === 0 ? e.name : `${e.name}:${e.privileges.join(",")}`)).join(";"))

describe("Scope", () => {
  it("print(parse(x)) round trips for canonical text", () => {
    fc.assert(fc.property(text, (t) => {
      const parsed = Scope.parse(t)
      assert.isTrue(Either.isRight(parsed))
      assert.strictEqual(Scope.print(Either.getOrThrow(parsed)), t)
    }))
  })

  it("parse(print(s)) is s, and every scope is a subset of itself", () => {
    fc.assert(fc.property(entries, (es) => {
      const scope = Scope.make(Object.fromEntries(es.map((e) => [e.name, e.privileges])))
      const again = Either.getOrThrow(Scope.parse(Scope.print(scope)))
      assert.strictEqual(Scope.print(again), Scope.print(scope))
      assert.isTrue(Scope.isSubset(scope, scope))
    }))
  })

  it("dropping an entry or privilege gives a subset, not the other way round", () => {
    fc.assert(fc.property(text, (t) => {
      const full = Either.getOrThrow(Scope.parse(t))
      const first = full.entries[0]!
      const smaller = new Scope.Scope({ entries: [{ name: first.name, privileges: first.privileges.slice(1) }] })
      assert.isTrue(Scope.isSubset(smaller, full))
      if (first.privileges.length > 0) assert.isFalse(Scope.isSubset(full, smaller))
    }))
  })

  it("case, spaces and a trailing ';' are normalised", () => {
    assert.strictEqual(Scope.print(Either.getOrThrow(Scope.parse(" Certificate:Manage, revoke ; configuration;"))), "certificate:manage,revoke;configuration")
  })

  it("malformed text is a typed ScopeParseError, never an exception", () => {
    for (const bad of ["", ";", "certificate:", "a;;b", "1abc", "cert:man age"]) {
      const result = Scope.parse(bad)
      assert.isTrue(Either.isLeft(result), bad)
      if (Either.isLeft(result)) assert.strictEqual(result.left._tag, "ScopeParseError")
    }
    fc.assert(fc.property(fc.string(), (s) => {
      Scope.parse(s)
    }))
  })
})
