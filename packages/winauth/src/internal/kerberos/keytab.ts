/**
 * MIT keytab files, format 0x0502 (what `kadmin ktadd`, `ktutil` and Windows `ktpass` write): the
 * service's long-term keys, or a client's, so that no password is needed. Holes (negative sizes)
 * are skipped; entries of enctypes we do not speak are kept out.
 */
import { concat, Malformed } from "../ntlm/bytes.js"
import type { ServiceKey } from "./acceptor.js"
import { counted16, Reader, u16, u32, u8, utf8 } from "./binary.js"
import { enctypeById } from "./enctypes.js"

/** Reads every AES entry of a keytab. @internal */
export const parseKeytab = (bytes: Uint8Array): Array<ServiceKey> => {
  const r = new Reader(bytes, "the keytab")
  if (r.u8() !== 5) throw new Malformed("the file is not a keytab (first byte is not 5)")
  const version = r.u8()
  if (version !== 2) throw new Malformed(`keytab version ${version} is not supported (only 0x0502)`)
  const keys: Array<ServiceKey> = []
  while (r.remaining >= 4) {
    const size = r.i32()
    if (size === 0) break
    if (size < 0) {
      r.bytesOf(-size) // a hole left by a removed entry
      continue
    }
    const entry = new Reader(r.bytesOf(size), "a keytab entry")
    const count = entry.u16()
    const realm = entry.text(16)
    const components: Array<string> = []
    for (let i = 0; i < count; i++) components.push(entry.text(16))
    const nameType = entry.u32()
    entry.u32() // timestamp
    let kvno = entry.u8()
    const keytype = entry.u16()
    const keyvalue = entry.bytesOf(entry.u16())
    // A 32-bit kvno follows when there is room; zero means "use the 8-bit one".
    if (entry.remaining >= 4) {
      const wide = entry.u32()
      if (wide !== 0) kvno = wide
    }
    const enctype = enctypeById(keytype)
    if (enctype !== undefined && keyvalue.length === enctype.keyBytes) {
      keys.push({ principal: { nameType, components }, realm, kvno, key: { keytype, keyvalue } })
    }
  }
  return keys
}

/** Writes keys as a 0x0502 keytab (for tests, and for the simulator's keytab in part 2). @internal */
export const writeKeytab = (keys: ReadonlyArray<ServiceKey>, timestampSeconds: number): Uint8Array => {
  const entries = keys.map((k) => {
    const body = concat(
      u16(k.principal.components.length),
      counted16(utf8(k.realm)),
      ...k.principal.components.map((c) => counted16(utf8(c))),
      u32(k.principal.nameType),
      u32(timestampSeconds),
      u8(k.kvno > 255 ? 0 : k.kvno),
      u16(k.key.keytype),
      counted16(k.key.keyvalue),
      u32(k.kvno)
    )
    return concat(u32(body.length), body)
  })
  return concat(Uint8Array.of(5, 2), ...entries)
}
