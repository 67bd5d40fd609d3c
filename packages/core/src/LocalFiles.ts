/**
 * Every local file vedauth reads goes through one hardened reader: the token store, a keytab, a
 * credential cache, krb5.conf, a client certificate and its key, a CA file and a JWT file. The
 * reader is `TokenStoreFiles` (named after its first user; `LocalFiles` is the same tag, and
 * `NodeTokenStoreFiles.layer` provides it): an open that never blocks (a FIFO opens at once), a
 * regular file only, judged by `fstat` through the open descriptor, a size cap, interruptible.
 * This module adds the rules that fit each kind of file, as OpenSSH's StrictModes does for its own:
 *
 * | file | links | owner | mode | cap |
 * |---|---|---|---|---|
 * | credential cache | refused | you | not writable by group or others | 4 MiB |
 * | keytab | followed | you or root | not writable by group or others | 1 MiB |
 * | client private key | refused | you or root | not readable by others (by group either when it is yours: chmod 600) | 1 MiB |
 * | krb5.conf, CA file, JWT file | followed | you or root | not writable by group or others | 1 MiB (CA 4 MiB) |
 * | client certificate | followed | anyone | any | 1 MiB |
 *
 * Links are followed where they are usual by design (`/etc/krb5.conf` and CA bundles managed by the
 * system, a Kubernetes projected token or mounted secret): `fstat` then judges the target, so a link
 * to `/dev/zero`, to a FIFO or to another user's file is refused all the same. A credential cache
 * (it lives in `/tmp`, where anyone can plant a link, and is written back) and a private key are
 * never opened through a link. A file owned by another user is refused where trusting it would let
 * that user act for us (their tickets, their KDC, their CA, their token); only a certificate, which
 * proves nothing without its key, may be anyone's. Windows has no owners or modes: only the type and
 * size rules hold there.
 *
 * @since 0.2.0
 */
import { Effect, Option, Schema } from "effect"
import { TokenStoreFiles } from "./TokenStoreFiles.js"
import type * as Files from "./TokenStoreFiles.js"
import type { TokenStoreError } from "./VedAuthError.js"

/**
 * The hardened file operations, under the name that says what they are now for: the same tag as
 * `TokenStoreFiles`.
 *
 * @since 0.2.0
 * @category tags
 */
export const LocalFiles = TokenStoreFiles

/**
 * @since 0.2.0
 * @category tags
 */
export type LocalFiles = TokenStoreFiles

/**
 * @since 0.2.0
 * @category models
 */
export type Kind = "credentialCache" | "keytab" | "privateKey" | "krb5Conf" | "caFile" | "jwt" | "certificate"

/**
 * What a kind of file must be.
 *
 * @since 0.2.0
 * @category models
 */
export interface Rule {
  /** How the file is named in messages ("keytab"). */
  readonly what: string
  readonly followLinks: boolean
  readonly maxBytes: number
  /** Who may own it: you only, you or root, or anyone. */
  readonly owner: "you" | "youOrRoot" | "anyone"
  /** A secret (a private key): not readable by others, nor by group when it is yours. */
  readonly secret: boolean
}

const mib = 1024 * 1024

/**
 * @since 0.2.0
 * @category models
 */
export const rules: { readonly [K in Kind]: Rule } = {
  credentialCache: { what: "credential cache", followLinks: false, maxBytes: 4 * mib, owner: "you", secret: false },
  keytab: { what: "keytab", followLinks: true, maxBytes: mib, owner: "youOrRoot", secret: false },
  privateKey: { what: "private key", followLinks: false, maxBytes: mib, owner: "youOrRoot", secret: true },
  krb5Conf: { what: "krb5.conf", followLinks: true, maxBytes: mib, owner: "youOrRoot", secret: false },
  caFile: { what: "CA file", followLinks: true, maxBytes: 4 * mib, owner: "youOrRoot", secret: false },
  jwt: { what: "JWT file", followLinks: true, maxBytes: mib, owner: "youOrRoot", secret: false },
  certificate: { what: "certificate file", followLinks: true, maxBytes: mib, owner: "anyone", secret: false }
}

/**
 * A local file that cannot be used: `Untrusted` when its owner or mode says another user could have
 * planted or read it, `Unreadable` for the rest (a FIFO, a device, a link where none is followed, too
 * large, an I/O error). The detail says what to do; it never quotes the file's content.
 *
 * @since 0.2.0
 * @category errors
 */
export class LocalFileError
  extends Schema.TaggedError<LocalFileError>("@vedauth/core/LocalFileError")("LocalFileError", {
    reason: Schema.Literal("Untrusted", "Unreadable"),
    /** The kind of file, as messages name it ("keytab"). */
    what: Schema.String,
    path: Schema.String,
    /** Why, and what to do: "it is a FIFO, not a regular file; remove it". */
    detail: Schema.String
  })
{
  override get message(): string {
    return `cannot use the ${this.what} '${this.path}': ${this.detail}`
  }
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8).padStart(3, "0")}`

/**
 * Why a file of this kind, with these `fstat` facts, must not be used; `undefined` when it may.
 *
 * @since 0.2.0
 * @category checks
 */
export const problem = (rule: Rule, uid: Option.Option<number>, info: Files.Info): string | undefined => {
  if (rule.owner === "anyone" || Option.isNone(uid) || Option.isNone(info.uid)) return undefined
  const [you, owner] = [uid.value, info.uid.value]
  const byRoot = owner === 0 && rule.owner === "youOrRoot"
  if (owner !== you && !byRoot) {
    const allowed = rule.owner === "youOrRoot" ? "by you or root" : "by you"
    return `it is owned by user id ${owner}, not ${allowed} (user id ${you}), so another user could have planted it; use one of your own`
  }
  if ((info.mode & 0o022) !== 0) {
    return `it is writable by group or others (mode ${
      octal(info.mode)
    }), so another user could have changed it; run chmod go-w on it`
  }
  // As OpenSSH: a key of your own readable by anyone else is refused; a key root provisioned may be
  // readable by a group (Debian's ssl-cert, Kubernetes' fsGroup), never by others.
  if (rule.secret && (info.mode & (owner === you ? 0o077 : 0o007)) !== 0) {
    return `it is readable by ${owner === you ? "group or others" : "others"} (mode ${
      octal(info.mode)
    }); a private key must be readable only by you: run chmod 600 on it`
  }
  return undefined
}

/**
 * A local file's bytes, read through the hardened reader by the rules of its kind; `None` when there
 * is no such file.
 *
 * @since 0.2.0
 * @category operations
 */
export const read: (
  path: string,
  kind: Kind
) => Effect.Effect<Option.Option<Uint8Array>, LocalFileError, TokenStoreFiles> = Effect.fn(
  "LocalFiles.read"
)(function*(path: string, kind: Kind) {
  const rule = rules[kind]
  const files = yield* TokenStoreFiles
  const read = yield* files.readBytes(path, rule).pipe(
    Effect.mapError((error) =>
      new LocalFileError({ reason: "Unreadable", what: rule.what, path, detail: error.detail })
    )
  )
  if (Option.isNone(read)) return Option.none()
  const refused = problem(rule, files.uid, read.value.info)
  if (refused !== undefined) {
    return yield* new LocalFileError({ reason: "Untrusted", what: rule.what, path, detail: refused })
  }
  return Option.some(read.value.bytes)
})

const unreadable = (path: string, kind: Kind, why: string) =>
  new LocalFileError({ reason: "Unreadable", what: rules[kind].what, path, detail: why })

/**
 * `read` as UTF-8 text.
 *
 * @since 0.2.0
 * @category operations
 */
export const readText = (
  path: string,
  kind: Kind
): Effect.Effect<Option.Option<string>, LocalFileError, TokenStoreFiles> =>
  Effect.flatMap(read(path, kind), (bytes) =>
    Option.isNone(bytes) ? Effect.succeedNone : Effect.try({
      try: () => Option.some(new TextDecoder("utf-8", { fatal: true }).decode(bytes.value)),
      catch: () => unreadable(path, kind, "it is not UTF-8 text")
    }))

/**
 * `readText` of a file that must be there: a missing one is `Unreadable` ("it does not exist").
 *
 * @since 0.2.0
 * @category operations
 */
export const readExistingText = (path: string, kind: Kind): Effect.Effect<string, LocalFileError, TokenStoreFiles> =>
  Effect.flatMap(
    readText(path, kind),
    Option.match({ onNone: () => Effect.fail(unreadable(path, kind, "it does not exist")), onSome: Effect.succeed })
  )

/**
 * Replaces `file` with `content` atomically: a new file created exclusively beside it (mode 0600,
 * never through a link), then renamed over it. On any failure or interruption the temporary file is
 * removed: nothing stray is left. The caller has made sure the folder is one only it can write to.
 *
 * @since 0.2.0
 * @category operations
 */
export const replace = <E>(
  file: string,
  temp: string,
  content: string | Uint8Array,
  onTempExists: () => E
): Effect.Effect<void, E | TokenStoreError, TokenStoreFiles> =>
  Effect.flatMap(TokenStoreFiles, (files) =>
    Effect.scoped(files.createExclusive(temp, content)).pipe(
      Effect.flatMap((created): Effect.Effect<void, E | TokenStoreError> =>
        Option.isNone(created) ? Effect.fail(onTempExists()) : files.rename(temp, file)
      ),
      Effect.onError(() => Effect.ignore(files.remove(temp)))
    ))
