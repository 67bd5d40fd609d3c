/**
 * The local-file attacks of issue #21 (R2, R5, R11) on real files, with a real second local user
 * where the attack needs one: the keytab, the credential cache, krb5.conf, the JWT file, the CA file
 * and the client key go through the one hardened reader (`LocalFiles` over `NodeTokenStoreFiles`).
 * Every attack must end in a typed error that names the problem, never in a hang, a read of
 * `/dev/zero`, or a login as another user. (The CLI's side: cli `CertificateJwtGrants.test.ts` ›
 * "issue #21 R11", `SharedStore.test.ts` › "issue #21 R4".)
 */
import { assert, describe, it } from "@effect/vitest"
import * as Credentials from "@vedauth/core/Credentials"
import * as KdcTransport from "@vedauth/core/KdcTransport"
import * as Kerberos from "@vedauth/core/Kerberos"
import * as VedAuth from "@vedauth/core/VedAuth"
import { makeKdc } from "@vedauth/test-helpers/kerberosServers"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as NodeNtlmTransport from "../src/NodeNtlmTransport.js"
import * as NodeTokenStoreFiles from "../src/NodeTokenStoreFiles.js"
import * as NodeVedAuth from "../src/NodeVedAuth.js"
import { localUser } from "./support/localUser.js"
import { tempFolder } from "./support/store.js"

const io = <A>(f: () => Promise<A>) => Effect.promise(f)
const REALM = "FILES.TEST"
const SPN = "HTTP/tpp.files.test"
const password = Redacted.make("Mallory-Password-1")

// A realm in memory: mallory's and the service's keys, and our KDC for them.
const realm = Effect.gen(function*() {
  const mallory = yield* Kerberos.keytabFromPassword({ name: ["mallory"], realm: REALM }, password)
  const service = yield* Kerberos.keytabFromPassword(
    { name: ["HTTP", "tpp.files.test"], realm: REALM },
    Redacted.make("service-secret")
  )
  return makeKdc({ realm: REALM, keytabs: [mallory, service] })
})

/** A real credential cache holding mallory's TGT and an HTTP/ ticket, at `file` (in a folder of ours). */
const malloryCache = (file: string) =>
  Effect.flatMap(
    realm,
    (kdc) =>
      Kerberos.getTicket({
        principal: `mallory@${REALM}`,
        keySource: { _tag: "Password", password },
        spn: SPN,
        kdc: "kdc.invalid",
        cache: `FILE:${file}`
      }).pipe(
        Effect.provide(Layer.merge(kdc.layer, NodeTokenStoreFiles.layer))
      )
  )

const files = NodeTokenStoreFiles.layer
// A readable regular file to stand for the client certificate (only read as text before TLS): this one.
const someCert = new URL(import.meta.url).pathname
const withKrb5Config = (path: string) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["KRB5_CONFIG", path]])))

const kerberosError = (error: { readonly _tag: string }, reason: string, ...words: ReadonlyArray<string>) => {
  assert.strictEqual(error._tag, "KerberosError")
  const { message } = error as unknown as { readonly message: string }
  assert.strictEqual((error as unknown as { readonly reason: string }).reason, reason, message)
  for (const word of words) assert.include(message, word)
}

// A folder of the test's own (0700), and in it `name`.
const ownFolder = Effect.gen(function*() {
  const folder = Path.join(yield* tempFolder, "own")
  yield* io(() => Fs.mkdir(folder, { mode: 0o700 }))
  return folder
})

const strays = (folder: string) =>
  io(async () => (await Fs.readdir(folder)).filter((name) => name.includes(".vedauth-")))

describe("R5: a credential cache planted by another local user", () => {
  it.scopedLive("mallory's cache (theirs, 0644, with their TGT and an HTTP/ ticket) is refused: CCACHE_UNTRUSTED, never a login as mallory", () =>
    Effect.gen(function*() {
      const mallory = yield* localUser
      const shared = yield* tempFolder
      yield* io(() => Fs.chmod(shared, 0o1777)) // a /tmp of the test's own
      const planted = Path.join(shared, "krb5cc_victim")
      const made = Path.join(yield* ownFolder, "made")
      yield* malloryCache(made)
      yield* io(() => Fs.copyFile(made, planted))
      yield* io(() => Fs.chown(planted, mallory.uid, mallory.gid))
      yield* io(() => Fs.chmod(planted, 0o644))

      // What `vedauth login` asks first: whose cache it is.
      const owner = yield* Effect.flip(Kerberos.cachePrincipal(`FILE:${planted}`).pipe(Effect.provide(files)))
      kerberosError(owner, "CCACHE_UNTRUSTED", `owned by user id ${mallory.uid}`, "another user could have planted it")
      assert.notInclude(owner.message, "mallory@")

      // End to end through NodeVedAuth.layer: the ticket step fails before any request.
      const layer = NodeVedAuth.layer({
        url: "https://tpp.files.test",
        clientId: "vedauth-demo",
        scope: "certificate:manage",
        mechanism: "kerberos",
        kerberos: { cache: `FILE:${planted}`, kdc: "127.0.0.1:1", realm: REALM },
        tokenStorePath: Path.join(shared, "tokens.json")
      })
      const authorized = yield* Effect.flip(Effect.provide(VedAuth.authorize(), layer))
      kerberosError(authorized, "CCACHE_UNTRUSTED", `owned by user id ${mallory.uid}`)
      assert.notInclude(authorized.message, "mallory@")
    }))

  it.scopedLive("our own cache in a folder others can write (a sticky 1777 /tmp): used, but never written back; nothing stray left", () =>
    Effect.gen(function*() {
      const shared = yield* tempFolder
      yield* io(() => Fs.chmod(shared, 0o1777))
      const cache = Path.join(shared, "krb5cc_ours")
      const ticket = yield* malloryCache(cache)
      assert.strictEqual(ticket.kdcRoundTrips, 3)
      yield* io(() =>
        Fs.access(cache).then(() => assert.fail("a cache was written into a folder others can write"), () => undefined)
      )
      assert.deepStrictEqual(yield* strays(shared), [])
    }))

  it.scopedLive("our own cache in our own folder is written back atomically, 0600, nothing stray left", () =>
    Effect.gen(function*() {
      const folder = yield* ownFolder
      const cache = Path.join(folder, "krb5cc")
      yield* malloryCache(cache)
      assert.strictEqual((yield* io(() => Fs.stat(cache))).mode & 0o777, 0o600)
      assert.deepStrictEqual(yield* strays(folder), [])
      // Read back: the service ticket is there, no KDC needed.
      const again = yield* Kerberos.getTicket({
        keySource: { _tag: "CacheOnly" },
        spn: SPN,
        kdc: "127.0.0.1:1",
        realm: REALM,
        cache: `FILE:${cache}`
      }).pipe(
        Effect.provide(Layer.merge(KdcTransport.layerUnreachable, files))
      )
      assert.strictEqual(again.kdcRoundTrips, 0)
    }))

  it.scopedLive("a cache of ours that group or others can write (0666) is refused", () =>
    Effect.gen(function*() {
      const folder = yield* ownFolder
      const cache = Path.join(folder, "krb5cc")
      yield* malloryCache(cache)
      yield* io(() => Fs.chmod(cache, 0o666))
      kerberosError(
        yield* Effect.flip(Kerberos.cachePrincipal(cache).pipe(Effect.provide(files))),
        "CCACHE_UNTRUSTED",
        "writable by group or others (mode 0666)"
      )
    }))
})

describe("R2: FIFOs, /dev/zero and huge files where a keytab, cache, krb5.conf, JWT or CA file is read", () => {
  // Each kind of file, read the way vedauth reads it: the error's tag and name, and its message.
  type Read = (path: string) => Effect.Effect<unknown, { readonly _tag: string; readonly message: string }>
  const readers: ReadonlyArray<readonly [string, Read, string]> = [
    ["keytab", (path) => Kerberos.readKeytab(path).pipe(Effect.provide(files)), "KerberosError"],
    [
      "credential cache",
      (path) => Kerberos.cachePrincipal(`FILE:${path}`).pipe(Effect.provide(files)),
      "KerberosError"
    ],
    [
      "krb5.conf",
      (path) =>
        Kerberos.getTicket({ principal: "alice", keySource: { _tag: "CacheOnly" }, spn: SPN }).pipe(
          withKrb5Config(path),
          Effect.provide(Layer.merge(KdcTransport.layerUnreachable, files))
        ),
      "KerberosError"
    ],
    [
      "JWT file",
      (path) =>
        VedAuth.authorize().pipe(
          Effect.provide(
            NodeVedAuth.layer({
              url: "https://127.0.0.1:1",
              clientId: "vedauth-demo",
              scope: "s",
              credentials: Credentials.jwtFile(path),
              tokenStorePath: path + ".store/tokens.json"
            })
          )
        ),
      "AuthenticationFailed"
    ],
    ["CA file", (path) => NodeNtlmTransport.tlsOptions({ caFile: path }), "TransportError"],
    [
      "client key",
      (path) => NodeNtlmTransport.tlsOptions({ clientCertificateFiles: { cert: someCert, key: path } }),
      "TransportError"
    ]
  ]

  const refusedEach = (path: string, ...words: ReadonlyArray<string>) =>
    Effect.forEach(readers, ([what, read, tag]) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(read(path))
        assert.strictEqual(error._tag, tag, `${what}: ${error.message}`)
        for (const word of words) assert.include(error.message, word, what)
      }))

  it.scopedLive("a FIFO in place of each: a typed error at once, never a hang", () =>
    Effect.gen(function*() {
      const fifo = Path.join(yield* ownFolder, "fifo")
      execFileSync("mkfifo", ["-m", "600", fifo])
      yield* refusedEach(fifo, "FIFO", "not a regular file")
    }))

  it.scopedLive("a symlink to /dev/zero in place of each: refused (a link where none is followed, else the device by fstat), nothing read", () =>
    Effect.gen(function*() {
      const zero = Path.join(yield* ownFolder, "zero")
      yield* io(() => Fs.symlink("/dev/zero", zero))
      const before = process.memoryUsage().rss
      yield* refusedEach(zero)
      for (const [what, read] of readers) {
        const message = (yield* Effect.flip(read(zero))).message
        assert.match(message, /symbolic link|CharacterDevice, not a regular file/, what)
      }
      assert.isBelow(process.memoryUsage().rss - before, 64 * 1024 * 1024, "/dev/zero was not read into memory")
    }))

  it.scopedLive("a file past its cap (a 5 MiB keytab, cache, krb5.conf, JWT, CA file or key) is refused by its size, not read", () =>
    Effect.gen(function*() {
      const huge = Path.join(yield* ownFolder, "huge")
      yield* io(() => Fs.writeFile(huge, Buffer.alloc(5 * 1024 * 1024, 0x41), { mode: 0o600 }))
      yield* refusedEach(huge, "5242880 bytes, more than such a file ever holds")
    }))
})

describe("R11 and R2: owners and modes of the other files", () => {
  it.scopedLive("a krb5.conf, keytab, JWT or CA file another user owns is refused: they could choose our KDC, key, token or CA", () =>
    Effect.gen(function*() {
      const mallory = yield* localUser
      const folder = yield* ownFolder
      const theirs = Path.join(folder, "theirs")
      yield* io(() => Fs.writeFile(theirs, "[libdefaults]\n default_realm = EVIL.TEST\n", { mode: 0o644 }))
      yield* io(() => Fs.chown(theirs, mallory.uid, mallory.gid))
      const krb5 = yield* Effect.flip(
        Kerberos.getTicket({ principal: "alice", keySource: { _tag: "CacheOnly" }, spn: SPN }).pipe(
          withKrb5Config(theirs),
          Effect.provide(Layer.merge(KdcTransport.layerUnreachable, files))
        )
      )
      kerberosError(krb5, "KRB5_CONF_UNREADABLE", `owned by user id ${mallory.uid}`)
      kerberosError(
        yield* Effect.flip(Kerberos.readKeytab(theirs).pipe(Effect.provide(files))),
        "KEYTAB_UNTRUSTED",
        `owned by user id ${mallory.uid}`
      )
      const jwt = yield* Effect.flip(
        VedAuth.authorize().pipe(
          Effect.provide(
            NodeVedAuth.layer({
              url: "https://127.0.0.1:1",
              clientId: "vedauth-demo",
              scope: "s",
              credentials: Credentials.jwtFile(theirs),
              tokenStorePath: Path.join(folder, "tokens.json")
            })
          )
        )
      )
      assert.strictEqual(jwt._tag, "AuthenticationFailed")
      assert.include(jwt.message, `owned by user id ${mallory.uid}`)
      const ca = yield* Effect.flip(NodeNtlmTransport.tlsOptions({ caFile: theirs }))
      assert.include(ca.message, `owned by user id ${mallory.uid}`)
      // A link of ours to their file is judged by the target: refused the same.
      const link = Path.join(folder, "link")
      yield* io(() => Fs.symlink(theirs, link))
      kerberosError(
        yield* Effect.flip(Kerberos.readKeytab(link).pipe(Effect.provide(files))),
        "KEYTAB_UNTRUSTED",
        `owned by user id ${mallory.uid}`
      )
    }))

  it.scopedLive("a client key readable by group or others (0644, 0666) or given as a symlink is a TransportError that says chmod 600", () =>
    Effect.gen(function*() {
      const folder = yield* ownFolder
      const key = Path.join(folder, "client.key")
      execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key])
      const resolveKey = (path: string) =>
        Effect.flip(NodeNtlmTransport.tlsOptions({ clientCertificateFiles: { cert: someCert, key: path } }))
      for (const mode of [0o644, 0o666, 0o640]) {
        yield* io(() => Fs.chmod(key, mode))
        const error = yield* resolveKey(key)
        assert.strictEqual(error._tag, "TransportError")
        assert.include(error.message, `(mode 0${mode.toString(8)})`)
        assert.notInclude(error.message, "PRIVATE KEY")
      }
      yield* io(() => Fs.chmod(key, 0o644))
      assert.include((yield* resolveKey(key)).message, "chmod 600")
      yield* io(() => Fs.chmod(key, 0o600))
      const link = Path.join(folder, "link.key")
      yield* io(() => Fs.symlink(key, link))
      assert.include((yield* resolveKey(link)).message, "symbolic link")
    }))
})
