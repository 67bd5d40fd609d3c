/** Opaque tokens and the date forms VEDauth writes. */

// 16 random bytes print as 24 base64 characters ending in "==", the shape of TPP's tokens.
/** @internal */
export const newToken = (): string => {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** @internal */
export const newServerChallenge = (): Uint8Array => crypto.getRandomValues(new Uint8Array(8))

/** "/Date(ms)/" as .NET's DataContractJsonSerializer writes instants. @internal */
export const dotNetDate = (millis: number): string => `/Date(${Math.floor(millis)})/`

/** @internal */
export const isoDate = (millis: number): string => new Date(millis).toISOString()

/** @internal */
export const unixTime = (millis: number): number => Math.floor(millis / 1000)

/** Windows FILETIME (100 ns ticks since 1601), little-endian, for MsvAvTimestamp. @internal */
export const fileTime = (millis: number): Uint8Array => {
  const ticks = (BigInt(Math.floor(millis)) + 11_644_473_600_000n) * 10_000n
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, ticks, true)
  return out
}

/** @internal */
export const toBase64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Strict base64 decoding; undefined for anything else. @internal */
export const fromBase64 = (text: string): Uint8Array | undefined => {
  if (text.length === 0 || text.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}
