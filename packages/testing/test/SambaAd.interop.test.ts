/**
 * Interop with a real Active Directory: Samba's AD DC (sambaAd.ts) as an independent KDC and NTLM
 * authority, against today's client through its public API. Kerberos: `NodeVedAuth` asks Samba's
 * KDC for tickets to the simulator, whose acceptor holds the keytab Samba exported for the service
 * account (so only tickets the DC issued authorize). NTLM: a stand-in server hands the NTLMSSP
 * messages to Samba's `ntlm_auth`, so the DC's winbindd, not our code, verifies the NTLMv2 response.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import * as VedAuth from "@vedauth/core/VedAuth"
import { NodeTokenStoreFiles, NodeVedAuth } from "@vedauth/platform-node"
import * as NodeKdcTransport from "@vedauth/platform-node/NodeKdcTransport"
import { ConfigProvider, Effect, Layer, Logger, Redacted } from "effect"
import { execFile } from "node:child_process"
import * as Fs from "node:fs/promises"
import { promisify } from "node:util"
import * as Simulator from "../src/Simulator.js"
import { ntlmStandIn } from "./ntlmStandIn.js"
import {
  DOMAIN,
  LEGACY_SERVICE,
  type Login,
  PASSWORD,
  REALM,
  type SambaAd,
  SERVICE,
  startSambaAd,
  USERS,
  vedAuthAt
} from "./sambaAd.js"

let dc: SambaAd

beforeAll(async () => {
  dc = await startSambaAd()
}, 240_000)
afterAll(() => dc?.stop())

const files = Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)
const kdcLayer = Layer.merge(NodeKdcTransport.layer({ timeout: "5 seconds" }), files)

/** The simulator as TPP in CORP.TEST: alice is CORP\alice, and its acceptor has the keytab Samba exported. */
const tpp = Effect.gen(function*() {
  const serviceKeytab = yield* Kerberos.readKeytab(dc.serviceKeytab)
  return yield* Simulator.serve({
    protocol: "http",
    users: [{ name: USERS.alice, domain: DOMAIN, password: Redacted.make(PASSWORD) }],
    kerberos: { realm: REALM, serviceKeytab }
  })
})

/** authorize through NodeVedAuth against the simulator, with Samba's KDC; the grant and the simulator's counters. */
const authorize = (login: Omit<Login, "kerberos"> & { readonly kerberos?: VedAuth.KerberosOptions }) =>
  Effect.gen(function*() {
    const served = yield* tpp
    const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
    const grant = yield* VedAuth.authorize().pipe(
      Effect.provide(
        vedAuthAt(served.url, `${dir}/tokens.json`, { ...login, kerberos: login.kerberos ?? { kdc: dc.kdcAddress } })
      )
    )
    return { grant, stats: yield* served.simulator.stats }
  }).pipe(Effect.provide(files), Effect.scoped)

/** Runs with KRB5_CONFIG set to `path` (the rest of the environment as it is). */
const withKrb5Conf = (path: string) =>
  Effect.withConfigProvider(
    ConfigProvider.orElse(ConfigProvider.fromMap(new Map([["KRB5_CONFIG", path]])), () => ConfigProvider.fromEnv())
  )

/** An empty krb5.conf (no default_realm, no realms), as on a machine with no Kerberos configuration. */
const emptyKrb5Conf = Effect.promise(async () => {
  const path = `${dc.dir}/empty-krb5.conf`
  await Fs.writeFile(path, "")
  return path
})

const ticketFor = (principal: string, password: string, spn: string = SERVICE.spn) =>
  Kerberos.getTicket({
    principal,
    keySource: { _tag: "Password", password: Redacted.make(password) },
    spn,
    kdc: dc.kdcAddress
  }).pipe(Effect.provide(kdcLayer))

const refusal = (principal: string) => Effect.flip(ticketFor(principal, PASSWORD))

describe("Kerberos against Samba AD's KDC", () => {
  it.live("alice@CORP.TEST with her password: Samba's tickets authorize at the simulator whose acceptor has Samba's exported keytab, in one HTTP round trip", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorize({ username: `${USERS.alice}@${REALM}`, password: PASSWORD })
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
      assert.deepStrictEqual(stats.rejections, {})
      // The DC's audit log has alice's AS and the service ticket for HTTP/localhost.
      const logs = yield* Effect.promise(() => dc.logs())
      assert.match(logs, /Kerberos KDC.*\[alice@CORP\.TEST\]/)
    }))

  it.live("the UPN form alice@corp.test: AD takes the realm in any case and answers CORP.TEST; the AES key is salted as AD says (PA-ETYPE-INFO2)", () =>
    Effect.gen(function*() {
      const { grant } = yield* authorize({ username: `${USERS.alice}@${REALM.toLowerCase()}`, password: PASSWORD })
      assert.strictEqual(grant.scope, "certificate:manage")
      const ticket = yield* ticketFor(`ALICE@${REALM.toLowerCase()}`, PASSWORD)
      assert.strictEqual(ticket.client, `alice@${REALM}`)
      assert.strictEqual(ticket.server, `${SERVICE.spn}@${REALM}`)
    }))

  it.live("CORP\\alice (the NetBIOS domain, as Windows users write it) with the realm given: Kerberos with Samba's tickets, one HTTP round trip", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorize({
        username: `${DOMAIN}\\${USERS.alice}`,
        password: PASSWORD,
        kerberos: { realm: REALM, kdc: dc.kdcAddress }
      })
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
    }))

  it.live("CORP\\alice with no realm given, krb5.conf naming default_realm = CORP.TEST (no kdc option): alice@CORP.TEST, Kerberos, one HTTP round trip", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorize({
        username: `${DOMAIN}\\${USERS.alice}`,
        password: PASSWORD,
        kerberos: {}
      }).pipe(withKrb5Conf(dc.env.KRB5_CONFIG!))
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
      assert.deepStrictEqual(stats.rejections, {})
      const ticket = yield* Kerberos.getTicket({
        principal: `${DOMAIN}\\${USERS.alice}`,
        keySource: { _tag: "Password", password: Redacted.make(PASSWORD) },
        spn: SERVICE.spn
      }).pipe(
        Effect.provide(kdcLayer),
        withKrb5Conf(dc.env.KRB5_CONFIG!)
      )
      assert.strictEqual(ticket.client, `${USERS.alice}@${REALM}`)
      // PREAUTH_REQUIRED, AS, TGS.
      assert.strictEqual(ticket.kdcRoundTrips, 3)
    }))

  it.live("CORP\\alice with only the kdc option and an empty krb5.conf: the enterprise name alice@CORP, and the KDC's canonical realm CORP.TEST (RFC 6806) for the TGT and the service ticket", () =>
    Effect.gen(function*() {
      const empty = yield* emptyKrb5Conf
      const { grant, stats } = yield* authorize({
        username: `${DOMAIN}\\${USERS.alice}`,
        password: PASSWORD,
        kerberos: { kdc: dc.kdcAddress }
      }).pipe(withKrb5Conf(empty))
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
      const ticket = yield* ticketFor(`${DOMAIN}\\${USERS.alice}`, PASSWORD).pipe(withKrb5Conf(empty))
      const credential = Redacted.value(ticket.credential)
      assert.strictEqual(credential.crealm, REALM)
      // AD answers the enterprise name with the account's canonical name.
      assert.strictEqual(ticket.client, `${USERS.alice}@${REALM}`)
      assert.strictEqual(ticket.server, `${SERVICE.spn}@${REALM}`)
      // PREAUTH_REQUIRED and AS to realm CORP (answered as CORP.TEST), TGS to CORP.TEST: the same KDC.
      assert.strictEqual(ticket.kdcRoundTrips, 3)
      const logs = yield* Effect.promise(() => dc.logs())
      assert.match(logs, /Kerberos KDC.*alice/)
    }))

  it.live("CORP\\alice with kinit's cache of alice@CORP.TEST and no realm, no password: the cache's principal, one TGS round trip", () =>
    Effect.gen(function*() {
      const empty = yield* emptyKrb5Conf
      const cache = yield* Effect.promise(() => dc.kinit(`${USERS.alice}@${REALM}`, PASSWORD, "corp-alice.ccache"))
      const ticket = yield* Kerberos.getTicket({
        principal: `${DOMAIN}\\${USERS.alice}`,
        keySource: { _tag: "CacheOnly" },
        spn: SERVICE.spn,
        kdc: dc.kdcAddress,
        cache
      }).pipe(
        Effect.provide(kdcLayer),
        withKrb5Conf(empty)
      )
      assert.strictEqual(ticket.client, `${USERS.alice}@${REALM}`)
      assert.strictEqual(ticket.kdcRoundTrips, 1)
    }))

  it.live("CORP\\alice with no realm, no KDC and an empty krb5.conf: REALM_GUESS_FAILED names CORP and how to set the realm; under negotiate a warning says it before NTLM", () =>
    Effect.gen(function*() {
      const empty = yield* emptyKrb5Conf
      const error = yield* Kerberos.getTicket({
        principal: `${DOMAIN}\\${USERS.alice}`,
        keySource: { _tag: "Password", password: Redacted.make(PASSWORD) },
        spn: SERVICE.spn
      }).pipe(
        Effect.provide(kdcLayer),
        withKrb5Conf(empty),
        Effect.flip
      )
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag !== "KerberosError") return
      assert.strictEqual(error.reason, "REALM_GUESS_FAILED")
      assert.include(error.message, "no KDC is known for realm CORP")
      assert.include(error.message, "the NetBIOS domain of CORP\\alice")
      assert.include(error.message, "--realm")
      assert.include(error.message, "default_realm")
      const warnings: Array<string> = []
      const capture = Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) => {
          if (logLevel._tag === "Warning") warnings.push(String(message))
        })
      )
      const { grant, stats } = yield* authorize({
        username: `${DOMAIN}\\${USERS.alice}`,
        password: PASSWORD,
        mechanism: "negotiate",
        kerberos: {}
      }).pipe(
        withKrb5Conf(empty),
        Effect.provide(capture)
      )
      assert.strictEqual(grant.scope, "certificate:manage")
      // NTLM's negotiate and authenticate.
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [2])
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0], "REALM_GUESS_FAILED")
      assert.include(warnings[0], "realm CORP was only a guess")
      assert.include(warnings[0], "NTLM instead")
    }))

  it.live("AES pre-authentication: three KDC round trips (PREAUTH_REQUIRED, AS, TGS), an aes256 ticket and session key for the service", () =>
    Effect.gen(function*() {
      const ticket = yield* ticketFor(`${USERS.alice}@${REALM}`, PASSWORD)
      assert.strictEqual(ticket.kdcRoundTrips, 3)
      const credential = Redacted.value(ticket.credential)
      assert.strictEqual(credential.ticket.encPart.etype, 18)
      assert.strictEqual(credential.sessionKey.keytype, 18)
    }))

  it.live("a service account with no msDS-SupportedEncryptionTypes: AD issues an RC4 ticket with an AES session key, which the client can use", () =>
    Effect.gen(function*() {
      const ticket = yield* ticketFor(`${USERS.alice}@${REALM}`, PASSWORD, LEGACY_SERVICE.spn)
      const credential = Redacted.value(ticket.credential)
      assert.strictEqual(credential.ticket.encPart.etype, 23)
      assert.strictEqual(credential.sessionKey.keytype, 18)
      const initiator = yield* Kerberos.initiate(ticket)
      assert.isAbove(initiator.token.length, 0)
    }))

  it.live("the exported keytab holds the SPN's AES keys as AD derived them", () =>
    Effect.gen(function*() {
      const keytab = yield* Kerberos.readKeytab(dc.serviceKeytab)
      assert.include(keytab.principals, `${SERVICE.spn}@${REALM}`)
      const types = Redacted.value(keytab.keys).map((key) => key.key.keytype)
      assert.includeMembers(types, [17, 18])
    }).pipe(Effect.provide(files)))

  it.live("a wrong password: AuthenticationFailed (KDC_ERR_PREAUTH_FAILED), without the password", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(ticketFor(`${USERS.alice}@${REALM}`, "Wrong-Pass-2!"))
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "KDC_ERR_PREAUTH_FAILED")
      assert.notInclude(JSON.stringify(error) + error.message, "Wrong-Pass-2!")
    }))

  it.live("a disabled account and an expired one: AuthenticationFailed (KDC_ERR_CLIENT_REVOKED) for that user", () =>
    Effect.gen(function*() {
      for (const user of [USERS.disabled, USERS.expired]) {
        const error = yield* refusal(`${user}@${REALM}`)
        assert.strictEqual(error._tag, "AuthenticationFailed")
        if (error._tag !== "AuthenticationFailed") return
        assert.include(error.message, "KDC_ERR_CLIENT_REVOKED")
        assert.strictEqual(error.user, `${user}@${REALM}`)
      }
    }))

  it.live("an account that must change its password: AuthenticationFailed (KDC_ERR_KEY_EXPIRED) that says to change it", () =>
    Effect.gen(function*() {
      const error = yield* refusal(`${USERS.mustChange}@${REALM}`)
      assert.strictEqual(error._tag, "AuthenticationFailed")
      assert.include(error.message, "KDC_ERR_KEY_EXPIRED")
      assert.include(error.message, "has expired: change it")
    }))

  it.live("an account with only an RC4 key: KerberosError KDC_ERR_ETYPE_NOSUPP whose hint says to enable AES", () =>
    Effect.gen(function*() {
      const error = yield* refusal(`${USERS.rc4Only}@${REALM}`)
      assert.strictEqual(error._tag, "KerberosError")
      if (error._tag !== "KerberosError") return
      assert.strictEqual(error.reason, "KDC_ERR_ETYPE_NOSUPP")
      assert.include(error.hint ?? "", "enable AES for the account")
    }))

  it.live("MIT kinit against Samba's KDC, then the library with that cache and no password: authorized, the service ticket written back", () =>
    Effect.gen(function*() {
      const cache = yield* Effect.promise(() => dc.kinit(`${USERS.alice}@${REALM}`, PASSWORD, "kinit.ccache"))
      const { grant, stats } = yield* authorize({ kerberos: { kdc: dc.kdcAddress, cache } })
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
      const { stdout } = yield* Effect.promise(() => promisify(execFile)("klist", [`FILE:${cache}`], { env: dc.env }))
      assert.include(stdout, `${SERVICE.spn}@${REALM}`)
    }))

  it.live("negotiate with Kerberos configured chooses Kerberos: one HTTP round trip, no NTLM", () =>
    Effect.gen(function*() {
      const { grant, stats } = yield* authorize({
        username: `${USERS.alice}@${REALM}`,
        password: PASSWORD,
        mechanism: "negotiate"
      })
      assert.strictEqual(grant.scope, "certificate:manage")
      assert.deepStrictEqual(stats.roundTripsPerHandshake, [1])
      assert.deepStrictEqual(stats.rejections, {})
    }))
})

describe("NTLMv2 verified by Samba AD's DC (ntlm_auth through winbindd)", () => {
  const viaDc = (password: string) =>
    Effect.gen(function*() {
      const standIn = yield* ntlmStandIn({ smbConf: dc.smbConf, env: dc.winbindEnv })
      const dir = yield* (yield* FileSystem.FileSystem).makeTempDirectoryScoped()
      const grant = yield* Effect.either(
        VedAuth.authorize().pipe(
          Effect.provide(NodeVedAuth.layer({
            url: standIn.url,
            clientId: Simulator.defaultClientId,
            scope: "certificate:manage",
            mechanism: "ntlm",
            username: `${DOMAIN}\\${USERS.alice}`,
            password: Redacted.make(password),
            tokenStorePath: `${dir}/tokens.json`
          }))
        )
      )
      return { grant, verdicts: [...standIn.verdicts] }
    }).pipe(Effect.provide(files), Effect.scoped)

  it.live("the right password: the DC accepts the NTLMv2 response and names CORP\\alice", () =>
    Effect.gen(function*() {
      const { grant, verdicts } = yield* viaDc(PASSWORD)
      assert.isTrue(grant._tag === "Right", String(grant))
      if (grant._tag === "Right") assert.strictEqual(grant.right.identity, `AD+${DOMAIN}\\${USERS.alice}`)
      assert.deepStrictEqual(verdicts.map((v) => v.answer), [`AF ${DOMAIN}\\${USERS.alice}`])
    }))

  it.live("a wrong password: the DC refuses it (NT_STATUS_LOGON_FAILURE, as AD answers a network logon), the client fails with AuthenticationFailed", () =>
    Effect.gen(function*() {
      const { grant, verdicts } = yield* viaDc("Wrong-Pass-2!")
      assert.strictEqual(grant._tag, "Left")
      if (grant._tag === "Left") assert.strictEqual(grant.left._tag, "AuthenticationFailed")
      assert.lengthOf(verdicts, 1)
      assert.strictEqual(verdicts[0]!.answer, "NA NT_STATUS_LOGON_FAILURE")
    }))
})
