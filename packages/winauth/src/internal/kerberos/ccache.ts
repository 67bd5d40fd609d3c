/**
 * MIT `FILE:` credential caches, version 4 (0x0504, what `kinit` writes): read the default principal
 * and its tickets, and write them back so that `klist` shows ours and a second run reuses the
 * ticket-granting and service tickets until they expire. Versions 3 and 4 are read (they differ in
 * the header only); configuration entries (`X-CACHECONF:`) are skipped.
 */
import { concat, Malformed } from "../ntlm/bytes.js"
import { counted32, Reader, u16, u32, u8, utf8 } from "./binary.js"
import * as der from "./der.js"
import type { Credential } from "./kdcClient.js"
import { decodeTicket, type PrincipalName } from "./types.js"

/** @internal */
export interface CredentialCache {
  readonly principal: PrincipalName
  readonly realm: string
  readonly credentials: ReadonlyArray<Credential>
}

/** A principal in the ccache encoding (name type, count, realm, components). @internal */
export const readPrincipal = (r: Reader): { readonly principal: PrincipalName; readonly realm: string } => {
  const nameType = r.u32()
  const count = r.u32()
  if (count > 64) throw new Malformed("a principal in the ccache has too many components")
  const realm = r.text(32)
  const components: Array<string> = []
  for (let i = 0; i < count; i++) components.push(r.text(32))
  return { principal: { nameType, components }, realm }
}

const skipList = (r: Reader) => {
  const count = r.u32()
  if (count > 1024) throw new Malformed("the ccache lists too many addresses or authdata")
  for (let i = 0; i < count; i++) {
    r.u16()
    r.bytesOf(r.u32())
  }
}

/**
 * One credential in the ccache encoding (MIT's version 4, as KCM also carries them); `undefined` for
 * a configuration entry (`X-CACHECONF:`) or a user-to-user ticket, which are read past.
 * @internal
 */
export const readCredential = (r: Reader): Credential | undefined => {
  const client = readPrincipal(r)
  const server = readPrincipal(r)
  const keytype = r.u16()
  const keyvalue = r.bytesOf(r.u32())
  const authtime = r.u32() * 1000
  const starttime = r.u32() * 1000
  const endtime = r.u32() * 1000
  const renewTill = r.u32() * 1000
  const isSkey = r.u8()
  const flags = r.u32()
  skipList(r) // addresses
  skipList(r) // authorization data
  const ticketBytes = r.bytesOf(r.u32())
  r.bytesOf(r.u32()) // second ticket (user-to-user)
  if (server.realm === "X-CACHECONF:" || isSkey !== 0) return undefined
  const ticket = decodeTicket(der.readAt(ticketBytes, 0))
  return {
    client: client.principal,
    crealm: client.realm,
    server: server.principal,
    srealm: server.realm,
    ticket,
    sessionKey: { keytype, keyvalue },
    flags,
    authtime,
    starttime: starttime === 0 ? undefined : starttime,
    endtime,
    renewTill: renewTill === 0 ? undefined : renewTill
  }
}

/** @internal */
export const parseCcache = (bytes: Uint8Array): CredentialCache => {
  const r = new Reader(bytes, "the credential cache")
  const version = r.u16()
  if (version !== 0x0504 && version !== 0x0503) {
    throw new Malformed(`credential cache version 0x${version.toString(16)} is not supported (only 3 and 4)`)
  }
  if (version === 0x0504) r.bytesOf(r.u16()) // header tags (KDC time offset)
  const owner = readPrincipal(r)
  const credentials: Array<Credential> = []
  while (r.remaining > 0) {
    const credential = readCredential(r)
    if (credential !== undefined) credentials.push(credential)
  }
  return { principal: owner.principal, realm: owner.realm, credentials }
}

/** @internal */
export const writePrincipal = (p: PrincipalName, realm: string) =>
  concat(
    u32(p.nameType),
    u32(p.components.length),
    counted32(utf8(realm)),
    ...p.components.map((c) => counted32(utf8(c)))
  )

const seconds = (millis: number | undefined) => u32(millis === undefined ? 0 : Math.floor(millis / 1000))

/** One credential in the ccache encoding (version 4). @internal */
export const writeCredential = (c: Credential): Uint8Array =>
  concat(
    writePrincipal(c.client, c.crealm),
    writePrincipal(c.server, c.srealm),
    u16(c.sessionKey.keytype),
    counted32(c.sessionKey.keyvalue),
    seconds(c.authtime),
    seconds(c.starttime),
    seconds(c.endtime),
    seconds(c.renewTill),
    u8(0),
    u32(c.flags),
    u32(0),
    u32(0),
    counted32(c.ticket.raw),
    counted32(new Uint8Array(0))
  )

/** @internal */
export const writeCcache = (cache: CredentialCache): Uint8Array =>
  concat(
    u16(0x0504),
    u16(12), // one header tag: KDC time offset 0
    u16(1),
    u16(8),
    u32(0),
    u32(0),
    writePrincipal(cache.principal, cache.realm),
    ...cache.credentials.map(writeCredential)
  )
