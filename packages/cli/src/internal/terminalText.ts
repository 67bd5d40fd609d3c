/**
 * Text from the server (error descriptions, reason phrases, identities, scopes) is printed to a
 * terminal: a hostile or broken server must not be able to move the cursor, retitle the window,
 * hide text or forge lines. Control characters are shown escaped instead. Plain code, no Effect.
 * @internal
 */

// C0 controls (newline and tab included: every field printed is one line), DEL, C1 controls, the
// Unicode line and paragraph separators, and the bidirectional overrides and isolates.
const unsafe = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

const escape = (char: string): string => {
  const code = char.codePointAt(0) ?? 0
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`
}

/** The text with every control character shown as an escape (`\x1b`). @internal */
export const safeText = (text: string): string => text.replace(unsafe, escape)

// JSON.stringify escapes C0 controls itself; these it leaves raw.
const unsafeInJson = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** One line of JSON with no raw control character in it (still valid JSON, same value). @internal */
export const safeJson = (value: unknown): string =>
  JSON.stringify(value).replace(
    unsafeInJson,
    (char) => `\\u${(char.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`
  )
