import { Either, Function } from "effect"
import type { ScopeEntry } from "../TokenScope.js"

// Scope and privilege names are words: letters, digits, and the few separators TPP uses in names.
const word = /^[a-z][a-z0-9_.-]*$/

/** @internal */
export const normalize = (entries: ReadonlyArray<ScopeEntry>): ReadonlyArray<ScopeEntry> => {
  const merged = new Map<string, Set<string>>()
  for (const entry of entries) {
    const name = entry.name.trim().toLowerCase()
    const privileges = merged.get(name) ?? new Set<string>()
    for (const privilege of entry.privileges) privileges.add(privilege.trim().toLowerCase())
    merged.set(name, privileges)
  }
  return Array.from(merged, ([name, privileges]) => ({ name, privileges: Array.from(privileges) }))
}

/** @internal */
export const parse = (input: string): Either.Either<ReadonlyArray<ScopeEntry>, string> => {
  const text = input.trim()
  if (text === "") return Either.left("the scope is empty")
  const entries: Array<ScopeEntry> = []
  for (const part of text.split(";")) {
    const segment = part.trim()
    // A trailing ';' is harmless and common in hand-written scopes; an empty middle segment is not.
    if (segment === "") {
      if (part === text.split(";").at(-1)) continue
      return Either.left("an empty scope between ';'")
    }
    const colon = segment.indexOf(":")
    const name = (colon === -1 ? segment : segment.slice(0, colon)).trim().toLowerCase()
    if (!word.test(name)) return Either.left(`'${name}' is not a scope name`)
    const privileges: Array<string> = []
    if (colon !== -1) {
      for (const raw of segment.slice(colon + 1).split(",")) {
        const privilege = raw.trim().toLowerCase()
        if (!word.test(privilege)) return Either.left(`'${privilege}' is not a privilege of '${name}'`)
        privileges.push(privilege)
      }
    }
    entries.push({ name, privileges })
  }
  if (entries.length === 0) return Either.left("the scope is empty")
  return Either.right(normalize(entries))
}

/** @internal */
export const print = (entries: ReadonlyArray<ScopeEntry>): string =>
  entries
    .map((entry) => (entry.privileges.length === 0 ? entry.name : `${entry.name}:${entry.privileges.join(",")}`))
    .join(";")

const isSubsetOf = (
  self: { readonly entries: ReadonlyArray<ScopeEntry> },
  that: { readonly entries: ReadonlyArray<ScopeEntry> }
): boolean =>
  self.entries.every((wanted) => {
    const held = that.entries.find((entry) => entry.name === wanted.name)
    return held !== undefined && wanted.privileges.every((privilege) => held.privileges.includes(privilege))
  })

/** @internal */
export const dualIsSubset = Function.dual<
  <S extends { readonly entries: ReadonlyArray<ScopeEntry> }>(that: S) => (self: S) => boolean,
  <S extends { readonly entries: ReadonlyArray<ScopeEntry> }>(self: S, that: S) => boolean
>(2, isSubsetOf)
