/** AV_PAIR lists ([MS-NLMP] 2.2.2.1): the TargetInfo of a CHALLENGE and the tail of an NTLMv2 response. */
import { concat, Malformed, readUint16, slice, uint16 } from "./bytes.js"

/** @internal */
export const AvId = {
  EOL: 0,
  NbComputerName: 1,
  NbDomainName: 2,
  DnsComputerName: 3,
  DnsDomainName: 4,
  DnsTreeName: 5,
  Flags: 6,
  Timestamp: 7,
  SingleHost: 8,
  TargetName: 9,
  ChannelBindings: 10
} as const

/** @internal */
export interface AvPair {
  readonly id: number
  readonly value: Uint8Array
}

/** Parses up to MsvAvEOL; a list without its terminator, or a pair past the end, is malformed. @internal */
export const parseAvPairs = (bytes: Uint8Array): ReadonlyArray<AvPair> => {
  const pairs: Array<AvPair> = []
  let at = 0
  for (;;) {
    const id = readUint16(bytes, at)
    const length = readUint16(bytes, at + 2)
    if (id === AvId.EOL) return pairs
    pairs.push({ id, value: slice(bytes, at + 4, length) })
    at += 4 + length
    if (pairs.length > 256) throw new Malformed("too many AV pairs")
  }
}

/** @internal */
export const encodeAvPairs = (pairs: ReadonlyArray<AvPair>): Uint8Array =>
  concat(
    ...pairs.flatMap((pair) => [uint16(pair.id), uint16(pair.value.length), pair.value]),
    uint16(AvId.EOL),
    uint16(0)
  )

/** @internal */
export const findAvPair = (pairs: ReadonlyArray<AvPair>, id: number): Uint8Array | undefined =>
  pairs.find((pair) => pair.id === id)?.value
