/**
 * `vedauth token` without the full command-line framework: scripts call it once per request, so it
 * loads only what reading a cached token needs. Anything it does not recognise (help, a typo, a
 * missing selector) goes to the full CLI, which explains it.
 * @internal
 */
import { parseArgs } from "node:util"
import { withVedAuth } from "./layer.js"
import { printAccessToken } from "./printToken.js"
import { runMain } from "./runMain.js"
import { booleanSelectors, type Selected, textSelectors } from "./spec.js"

const parse = (args: ReadonlyArray<string>): Selected | undefined => {
  const parsed = (() => {
    try {
      return parseArgs({
        args: [...args],
        strict: true,
        allowPositionals: false,
        options: Object.fromEntries([
          ...textSelectors.map((spec) => [spec.flag, { type: "string" as const }]),
          ...booleanSelectors.map((spec) => [spec.flag, { type: "boolean" as const }])
        ])
      }).values as Readonly<Record<string, string | boolean | undefined>>
    } catch {
      return undefined
    }
  })()
  if (parsed === undefined) return undefined
  const text: Record<string, string | undefined> = {}
  for (const spec of textSelectors) {
    const value = parsed[spec.flag] ?? process.env[spec.env]
    const given = typeof value === "string" && value !== "" ? value : undefined
    if (given === undefined && spec.required) return undefined
    text[spec.key] = given
  }
  const flags: Record<string, boolean> = {}
  for (const spec of booleanSelectors) flags[spec.key] = parsed[spec.flag] === true
  return { ...text, ...flags } as unknown as Selected
}

/** @internal */
export const main = (args: ReadonlyArray<string>): void => {
  const selected = parse(args.slice(1))
  if (selected === undefined) {
    void import("./fullMain.js").then((full) => full.main())
    return
  }
  runMain(
    withVedAuth(selected, printAccessToken),
    () => false
  )
}
