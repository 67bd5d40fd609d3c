/** Configuration values (each an `Option`) turned into transport options without `undefined` fields. */
import type { NodeNtlmTransport } from "@vedauth/platform-node"
import { Option } from "effect"

/** @internal */
export const transportOptions = (c: NodeNtlmTransport.ConfigOptions): NodeNtlmTransport.Options => ({
  ...Option.match(c.caFile, { onNone: () => ({}), onSome: (caFile) => ({ caFile }) }),
  ...Option.match(c.connectTimeout, { onNone: () => ({}), onSome: (connectTimeout) => ({ connectTimeout }) }),
  ...Option.match(c.responseTimeout, { onNone: () => ({}), onSome: (responseTimeout) => ({ responseTimeout }) })
})
