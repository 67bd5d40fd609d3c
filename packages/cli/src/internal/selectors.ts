import { Options } from "@effect/cli"
import { Config, Option } from "effect"
import { booleanSelectors, textSelectors } from "./spec.js"

export type { Selected } from "./spec.js"

type TextKey = (typeof textSelectors)[number]["key"]
type BooleanKey = (typeof booleanSelectors)[number]["key"]

// Every text selector also comes from the environment, so scripts can set them once.
const textOption = (spec: (typeof textSelectors)[number]): Options.Options<string | undefined> => {
  const option = Options.text(spec.flag).pipe(Options.withDescription(`${spec.description} (${spec.env})`))
  return spec.required
    ? option.pipe(Options.withFallbackConfig(Config.nonEmptyString(spec.env)))
    : option.pipe(
      Options.withFallbackConfig(Config.option(Config.nonEmptyString(spec.env)).pipe(Config.map(Option.getOrUndefined)))
    )
}

/**
 * Which server, integration, scope and user a command is about, and where the grant is kept.
 * @internal
 */
export const selectors = {
  ...(Object.fromEntries(textSelectors.map((spec) => [spec.key, textOption(spec)])) as {
    readonly url: Options.Options<string>
    readonly clientId: Options.Options<string>
    readonly scope: Options.Options<string>
  } & Record<Exclude<TextKey, "url" | "clientId" | "scope">, Options.Options<string | undefined>>),
  ...(Object.fromEntries(
    booleanSelectors.map((spec) => [spec.key, Options.boolean(spec.flag).pipe(Options.withDescription(spec.description))])
  ) as Record<BooleanKey, Options.Options<boolean>>)
}

/** @internal */
export const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object"))
