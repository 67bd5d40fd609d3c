/** NEGOTIATE, CHALLENGE and AUTHENTICATE messages ([MS-NLMP] 2.2.1), encoded and parsed with bounds checks. */
import type { Authenticate, Challenge } from "../../Ntlm.js"
import { AvId, type AvPair, encodeAvPairs, findAvPair, parseAvPairs } from "./avPairs.js"
import {
  ascii,
  concat,
  decodeOem,
  decodeUtf16le,
  isAscii,
  Malformed,
  readUint16,
  readUint32,
  slice,
  uint16,
  uint32,
  utf16le
} from "./bytes.js"
import { CHALLENGE_FLAGS, ECHOABLE_FLAGS, Flags, NEGOTIATE_FLAGS, SIGNATURE, VERSION_BYTES } from "./flags.js"

const NEGOTIATE_HEADER = 40
const CHALLENGE_HEADER = 56
const AUTHENTICATE_HEADER = 88
const MIC_OFFSET = 72

/** A security buffer descriptor: length, max length, offset. */
const fieldAt = (length: number, offset: number): Uint8Array => concat(uint16(length), uint16(length), uint32(offset))

/** Lays out payloads after a header and returns the descriptors in order. */
const layout = (
  headerLength: number,
  payloads: ReadonlyArray<Uint8Array>
): { fields: ReadonlyArray<Uint8Array>; payload: Uint8Array } => {
  let offset = headerLength
  const fields = payloads.map((p) => {
    const field = fieldAt(p.length, offset)
    offset += p.length
    return field
  })
  return { fields, payload: concat(...payloads) }
}

/** Reads a (length, max length, offset) descriptor and the bytes it points to, checked against the message. */
const readField = (message: Uint8Array, at: number): { bytes: Uint8Array; offset: number } => {
  const length = readUint16(message, at)
  const offset = readUint32(message, at + 4)
  if (length === 0) return { bytes: new Uint8Array(0), offset }
  if (offset > message.length || length > message.length - offset) {
    throw new Malformed(`a field at byte ${at} points past the end of the message (offset ${offset}, length ${length})`)
  }
  return { bytes: message.slice(offset, offset + length), offset }
}

const checkHeader = (message: Uint8Array, type: number, minimum: number, name: string): void => {
  if (message.length < minimum) throw new Malformed(`${name} is too short (${message.length} bytes)`)
  for (let i = 0; i < SIGNATURE.length; i++) {
    if (message[i] !== SIGNATURE[i]) throw new Malformed(`${name} does not start with the NTLMSSP signature`)
  }
  const actual = readUint32(message, 8)
  if (actual !== type) throw new Malformed(`expected an NTLM message of type ${type} (${name}), got type ${actual}`)
}

/** @internal */
export const encodeNegotiate = (domain: string | undefined, workstation: string | undefined): Uint8Array => {
  // NEGOTIATE names are OEM strings: supply them only when they are plain ASCII, else leave them out.
  const oemDomain = domain !== undefined && domain !== "" && isAscii(domain) ? ascii(domain.toUpperCase()) : undefined
  const oemHost = workstation !== undefined && workstation !== "" && isAscii(workstation)
    ? ascii(workstation.toUpperCase())
    : undefined
  const flags = NEGOTIATE_FLAGS |
    (oemDomain ? Flags.OEM_DOMAIN_SUPPLIED : 0) |
    (oemHost ? Flags.OEM_WORKSTATION_SUPPLIED : 0)
  const { fields, payload } = layout(NEGOTIATE_HEADER, [oemDomain ?? new Uint8Array(0), oemHost ?? new Uint8Array(0)])
  return concat(SIGNATURE, uint32(1), uint32(flags), ...fields, VERSION_BYTES, payload)
}

/** @internal */
export const decodeChallenge = (message: Uint8Array): Challenge => {
  checkHeader(message, 2, 32, "CHALLENGE")
  const flags = readUint32(message, 20)
  const serverChallenge = slice(message, 24, 8)
  const target = readField(message, 12)
  const targetName = flags & Flags.UNICODE ? decodeUtf16le(target.bytes) : decodeOem(target.bytes)
  // We speak NTLMv2 only. A server that sends no TargetInfo, or does not offer extended session
  // security, is an NTLMv1-era server: refuse rather than downgrade.
  if (message.length < 48 || !(flags & Flags.TARGET_INFO) || readUint16(message, 40) === 0) {
    throw new Malformed("the server offered NTLMv1 only (no TargetInfo in its CHALLENGE); NTLMv2 is required")
  }
  if (!(flags & Flags.EXTENDED_SESSIONSECURITY)) {
    throw new Malformed(
      "the server did not offer extended session security (NTLMv1-only CHALLENGE); NTLMv2 is required"
    )
  }
  const info = readField(message, 40)
  if (info.offset < 48) throw new Malformed(`the TargetInfo offset ${info.offset} lies inside the CHALLENGE header`)
  const pairs = parseAvPairs(info.bytes)
  const timestamp = findAvPair(pairs, AvId.Timestamp)
  if (timestamp !== undefined && timestamp.length !== 8) throw new Malformed("MsvAvTimestamp is not 8 bytes")
  return { flags, serverChallenge, targetName, targetInfo: info.bytes, timestamp, raw: message.slice() }
}

/** @internal */
export interface AuthenticateParts {
  readonly challenge: Challenge
  readonly domain: string
  readonly username: string
  readonly workstation: string
  readonly lmResponse: Uint8Array
  readonly ntResponse: Uint8Array
  readonly mic: Uint8Array
}

/** @internal */
export const authenticateFlags = (challenge: Challenge): number =>
  ((challenge.flags & ECHOABLE_FLAGS) | Flags.UNICODE | Flags.NTLM | Flags.VERSION) >>> 0

/** Encodes an AUTHENTICATE with a MIC field (zeros, to be filled once the MIC is computed). @internal */
export const encodeAuthenticate = (parts: AuthenticateParts): Uint8Array => {
  const { fields, payload } = layout(AUTHENTICATE_HEADER, [
    parts.lmResponse,
    parts.ntResponse,
    utf16le(parts.domain),
    utf16le(parts.username),
    utf16le(parts.workstation),
    new Uint8Array(0) // EncryptedRandomSessionKey: no key exchange
  ])
  return concat(
    SIGNATURE,
    uint32(3),
    ...fields,
    uint32(authenticateFlags(parts.challenge)),
    VERSION_BYTES,
    parts.mic,
    payload
  )
}

/** @internal */
export const withMic = (authenticate: Uint8Array, mic: Uint8Array): Uint8Array => {
  const out = authenticate.slice()
  out.set(mic, MIC_OFFSET)
  return out
}

/** @internal */
export const decodeAuthenticate = (message: Uint8Array): Authenticate => {
  checkHeader(message, 3, 64, "AUTHENTICATE")
  const lm = readField(message, 12)
  const nt = readField(message, 20)
  const domain = readField(message, 28)
  const user = readField(message, 36)
  const host = readField(message, 44)
  const key = readField(message, 52)
  const flags = readUint32(message, 60)
  const decode = flags & Flags.UNICODE ? decodeUtf16le : decodeOem
  // The MIC sits at byte 72 only when the payload starts at 88 or later (Version + MIC present).
  const firstPayload = Math.min(
    ...[lm, nt, domain, user, host, key].filter((f) => f.bytes.length > 0).map((f) => f.offset),
    message.length
  )
  const mic = firstPayload >= AUTHENTICATE_HEADER && message.length >= AUTHENTICATE_HEADER
    ? message.slice(MIC_OFFSET, AUTHENTICATE_HEADER)
    : undefined
  return {
    flags,
    domain: decode(domain.bytes),
    username: decode(user.bytes),
    workstation: decode(host.bytes),
    lmResponse: lm.bytes,
    ntResponse: nt.bytes,
    mic,
    raw: message.slice()
  }
}

/** @internal */
export interface ChallengeOptions {
  readonly serverChallenge: Uint8Array
  readonly targetName: string
  readonly timestamp: Uint8Array
  readonly dnsDomain?: string
  readonly dnsComputer?: string
}

/** @internal */
export const encodeChallenge = (options: ChallengeOptions): Uint8Array => {
  if (options.serverChallenge.length !== 8) throw new Malformed("the server challenge must be 8 bytes")
  if (options.timestamp.length !== 8) throw new Malformed("the timestamp must be an 8-byte FILETIME")
  const computer = (options.dnsComputer?.split(".")[0] ?? "SERVER").toUpperCase()
  const pairs: Array<AvPair> = [
    { id: AvId.NbDomainName, value: utf16le(options.targetName) },
    { id: AvId.NbComputerName, value: utf16le(computer) }
  ]
  if (options.dnsDomain !== undefined) pairs.push({ id: AvId.DnsDomainName, value: utf16le(options.dnsDomain) })
  if (options.dnsComputer !== undefined) pairs.push({ id: AvId.DnsComputerName, value: utf16le(options.dnsComputer) })
  pairs.push({ id: AvId.Timestamp, value: options.timestamp })
  const target = utf16le(options.targetName)
  const info = encodeAvPairs(pairs)
  const { fields, payload } = layout(CHALLENGE_HEADER, [target, info])
  return concat(
    SIGNATURE,
    uint32(2),
    fields[0]!,
    uint32(CHALLENGE_FLAGS),
    options.serverChallenge,
    new Uint8Array(8),
    fields[1]!,
    VERSION_BYTES,
    payload
  )
}
