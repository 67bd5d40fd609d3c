/**
 * `KCM:` credential caches (RHEL's and Fedora's `default_ccache_name = KCM:`, served by sssd-kcm):
 * read the cache's principal and credentials through the `KcmTransport`, in the engine's `Kcm`
 * codec, and store new tickets back as MIT's `kvno` does. The daemon's socket is krb5.conf's
 * `kcm_socket`, else Heimdal's and MIT's default path. The daemon is the cache's guard (it serves
 * each uid its own caches); what is checked here is the daemon: a socket that another user owns
 * (squatted in a shared folder) could hand us their tickets and log us in as them, as another
 * user's `FILE:` cache could, so it must be root's or ours.
 *
 * Round trips: `KCM:` alone asks for the default cache's name first (1), then the principal (1) and
 * the credentials (1 with `GET_CRED_LIST`; else the ids, 1, and each credential, 1 each); each new
 * ticket stored is one more.
 * @internal
 */
import type { CredentialCache, Kerberos as Engine, Krb5Conf } from "@vedauth/winauth"
import { Kcm } from "@vedauth/winauth"
import { Effect, Option } from "effect"
import { KcmTransport } from "../../KcmTransport.js"
import { TokenStoreFiles } from "../../TokenStoreFiles.js"
import { KerberosError, type TransportError } from "../../VedAuthError.js"
import { step } from "./failures.js"

/** A `KCM:` name's residual (`""` for the default cache), or `undefined` for any other name. @internal */
export const kcmResidual = (name: string | undefined): string | undefined => {
  const typed = name === undefined ? null : /^KCM:(.*)$/i.exec(name.trim())
  return typed === null ? undefined : typed[1]!
}

/** A cache read from KCM: its name in the daemon, where the daemon is, and what it holds. @internal */
export interface KcmCache {
  readonly name: string
  readonly socket: string
  readonly cache: CredentialCache.CredentialCache
}

// Root's or ours (when a TokenStoreFiles can tell); a missing socket is left to the connection's error.
const checkSocket = (socket: string) =>
  Effect.gen(function*() {
    const files = yield* Effect.serviceOption(TokenStoreFiles)
    if (Option.isNone(files)) return
    const info = yield* files.value.lstat(socket).pipe(
      Effect.mapError((e) =>
        new KerberosError({ reason: "CCACHE_UNREADABLE", detail: `the KCM socket ${socket}: ${e.detail}` })
      )
    )
    if (Option.isNone(info)) return
    const owner = Option.getOrUndefined(info.value.uid)
    const ours = Option.getOrUndefined(files.value.uid)
    if (info.value.type !== "Socket" && info.value.type !== "SymbolicLink") {
      return yield* new KerberosError({
        reason: "CCACHE_UNTRUSTED",
        detail: `the KCM socket ${socket} is not a socket`
      })
    }
    if (owner !== undefined && ours !== undefined && owner !== 0 && owner !== ours) {
      return yield* new KerberosError({
        reason: "CCACHE_UNTRUSTED",
        detail: `the KCM socket ${socket} is owned by user id ${owner}, neither root nor you`,
        hint: "point krb5.conf's kcm_socket at the KCM daemon's own socket"
      })
    }
  })

const call = <A>(socket: string, request: () => Uint8Array, decode: (reply: Uint8Array) => A) =>
  Effect.gen(function*() {
    const transport = yield* Effect.serviceOption(KcmTransport)
    if (Option.isNone(transport)) {
      return yield* new KerberosError({
        reason: "CCACHE_TYPE_UNSUPPORTED",
        detail: "a KCM: credential cache is named, but this layer has no KcmTransport to reach its daemon",
        hint: "provide NodeKcmTransport.layer from @vedauth/platform-node (NodeVedAuth includes it)"
      })
    }
    const reply = yield* transport.value.request(socket, yield* step(request))
    return yield* step(() => decode(reply))
  })

// The daemon says "no such cache" (nothing after kdestroy, or before the first kinit): no cache.
const orNone = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.catchIf(
    Effect.map(effect, Option.some),
    (e) => e instanceof KerberosError && e.reason === "KCM_NO_CACHE",
    () => Effect.succeedNone
  )

/**
 * The cache a `KCM:` name means and its principal (two requests for `KCM:` alone, else one), `None`
 * when the daemon has no such cache or the cache has no principal yet.
 * @internal
 */
export const kcmOwner = (residual: string, conf: Krb5Conf.Krb5Conf) =>
  Effect.gen(function*() {
    const socket = conf.kcmSocket ?? Kcm.defaultSocket
    yield* checkSocket(socket)
    const name = residual !== "" ? residual : yield* call(socket, Kcm.getDefaultCache, Kcm.decodeName)
    const owner = yield* orNone(call(socket, () => Kcm.getPrincipal(name), Kcm.decodePrincipal))
    return Option.isNone(owner) || owner.value === undefined
      ? Option.none()
      : Option.some({ name, socket, owner: owner.value })
  })

// A daemon without GET_CRED_LIST answers an error code (Heimdal) or closes the connection (sssd
// before 2.5); a malformed reply is not that.
const unsupported = (error: KerberosError | TransportError) =>
  error._tag === "TransportError" || error.reason === "KCM_ERROR"

const credentialsOneByOne = (socket: string, name: string) =>
  Effect.gen(function*() {
    const ids = yield* orNone(call(socket, () => Kcm.getCredUuidList(name), Kcm.decodeUuidList))
    const credentials: Array<Engine.Credential> = []
    // At most Kcm.limits.maxCredentials ids (the codec refuses longer lists); one request each.
    for (const id of Option.getOrElse(ids, (): ReadonlyArray<Uint8Array> => [])) {
      const credential = yield* orNone(call(socket, () => Kcm.getCredByUuid(name, id), Kcm.decodeCredential))
      // A credential removed since the list was made is passed over.
      if (Option.isSome(credential) && credential.value !== undefined) credentials.push(credential.value)
    }
    return Option.some<ReadonlyArray<Engine.Credential>>(credentials)
  })

/**
 * The cache a `KCM:` name means (`KCM:` alone: the daemon's default cache for this user), `None`
 * when the daemon has no such cache or the cache has no principal yet.
 * @internal
 */
export const readKcm = (residual: string, conf: Krb5Conf.Krb5Conf) =>
  Effect.gen(function*() {
    const found = yield* kcmOwner(residual, conf)
    if (Option.isNone(found)) return Option.none<KcmCache>()
    const { name, owner, socket } = found.value
    // MIT's one-request list where the daemon has it (sssd-kcm 2.5+), else one request per credential.
    const credentials = yield* orNone(call(socket, () => Kcm.getCredList(name), Kcm.decodeCredList)).pipe(
      Effect.catchIf(unsupported, () => credentialsOneByOne(socket, name)),
      Effect.map(Option.getOrElse((): ReadonlyArray<Engine.Credential> => []))
    )
    return Option.some<KcmCache>({
      name,
      socket,
      cache: { principal: { nameType: 1, components: owner.name }, realm: owner.realm, credentials }
    })
  })

const sameTicket = (a: Engine.Credential, b: Engine.Credential) =>
  a.ticket.raw.length === b.ticket.raw.length && a.ticket.raw.every((byte, i) => byte === b.ticket.raw[i])

/**
 * Stores the tickets the exchange got that the cache does not hold yet (the service ticket, and a
 * new TGT), one `STORE` each, when they are the cache's principal's: a cache of another user is
 * left alone.
 * @internal
 */
export const storeKcm = (kcm: KcmCache, got: ReadonlyArray<Engine.Credential | undefined>) =>
  Effect.forEach(
    got.filter((c): c is Engine.Credential =>
      c !== undefined && c.crealm === kcm.cache.realm &&
      c.client.components.join("/") === kcm.cache.principal.components.join("/") &&
      !kcm.cache.credentials.some((held) => sameTicket(held, c))
    ),
    (credential) => call(kcm.socket, () => Kcm.store(kcm.name, credential), (reply) => Kcm.decodeEmpty(reply, "STORE")),
    { discard: true }
  )

/**
 * krb5.conf's `default_ccache_name` when it is a `KCM:` cache (RHEL and Fedora): the cache `kinit`
 * fills when `KRB5CCNAME` is not set.
 * @internal
 */
export const defaultKcmName = (conf: Krb5Conf.Krb5Conf): string | undefined =>
  kcmResidual(conf.defaultCcacheName) === undefined ? undefined : conf.defaultCcacheName!.trim()
