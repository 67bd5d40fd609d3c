/** NEGOTIATE flags ([MS-NLMP] 2.2.2.5) that this codec sends or inspects. */

/** @internal */
export const Flags = {
  UNICODE: 0x00000001,
  OEM: 0x00000002,
  REQUEST_TARGET: 0x00000004,
  NTLM: 0x00000200,
  OEM_DOMAIN_SUPPLIED: 0x00001000,
  OEM_WORKSTATION_SUPPLIED: 0x00002000,
  ALWAYS_SIGN: 0x00008000,
  TARGET_TYPE_DOMAIN: 0x00010000,
  EXTENDED_SESSIONSECURITY: 0x00080000,
  TARGET_INFO: 0x00800000,
  VERSION: 0x02000000,
  F128: 0x20000000,
  F56: 0x80000000
} as const

/** The NEGOTIATE flags from the notes: no LM key, no signing/sealing keys, no RC4 key exchange. @internal */
export const NEGOTIATE_FLAGS = (Flags.UNICODE | Flags.OEM | Flags.REQUEST_TARGET | Flags.NTLM | Flags.ALWAYS_SIGN |
  Flags.EXTENDED_SESSIONSECURITY | Flags.VERSION | Flags.F128 | Flags.F56) >>> 0

/** Flags the client may echo from the CHALLENGE into its AUTHENTICATE. @internal */
export const ECHOABLE_FLAGS =
  (Flags.REQUEST_TARGET | Flags.ALWAYS_SIGN | Flags.EXTENDED_SESSIONSECURITY | Flags.TARGET_INFO | Flags.F128 |
    Flags.F56) >>> 0

/** The server's CHALLENGE flags. @internal */
export const CHALLENGE_FLAGS =
  (Flags.UNICODE | Flags.REQUEST_TARGET | Flags.NTLM | Flags.ALWAYS_SIGN | Flags.TARGET_TYPE_DOMAIN |
    Flags.EXTENDED_SESSIONSECURITY | Flags.TARGET_INFO | Flags.VERSION | Flags.F128 | Flags.F56) >>> 0

/** Windows 10 / Server 2022 version bytes, NTLMSSP revision 15. @internal */
export const VERSION_BYTES = Uint8Array.of(10, 0, 0x7c, 0x4f, 0, 0, 0, 0x0f)

/** "NTLMSSP\0" @internal */
export const SIGNATURE = Uint8Array.of(0x4e, 0x54, 0x4c, 0x4d, 0x53, 0x53, 0x50, 0x00)
