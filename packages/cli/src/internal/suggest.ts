/**
 * "Did you mean": the known word nearest a mistyped one (`lgoin`, `--clientid`, `--grant pasword`).
 * Plain code, no Effect: the parser of the lean `token` path uses it too.
 * @internal
 */

// Typed words and the known ones are short: anything longer is no typo of ours, and is not compared.
const maxLength = 64

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `lgoin` is one edit from
 * `login`, as a person would count it.
 * @internal
 */
export const editDistance = (a: string, b: string): number => {
  const rows = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0))
  )
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, rows[i - 2]![j - 2]! + 1)
      }
      rows[i]![j] = best
    }
  }
  return rows[a.length]![b.length]!
}

/**
 * The known word nearest `typed`, when it is near enough to be what was meant (at most 2 edits, and
 * fewer than a third of the word), compared without case and ignoring `-`; else undefined.
 * @internal
 */
export const nearest = (typed: string, known: ReadonlyArray<string>): string | undefined => {
  const plain = (word: string) => word.toLowerCase().replace(/-/g, "")
  if (typed.length > maxLength) return undefined
  let best: { readonly word: string; readonly distance: number } | undefined
  for (const word of known) {
    const distance = editDistance(plain(typed), plain(word))
    if (best === undefined || distance < best.distance) best = { word, distance }
  }
  return best !== undefined && best.distance <= Math.min(2, Math.ceil(best.word.length / 3)) ? best.word : undefined
}

/** `; did you mean 'login'?` or nothing. @internal */
export const didYouMean = (typed: string, known: ReadonlyArray<string>): string => {
  const word = nearest(typed, known)
  return word === undefined ? "" : `; did you mean '${word}'?`
}
