/**
 * Interop: our GSS-API Kerberos initiator and acceptor (SPNEGO and raw krb5, channel bindings,
 * mutual authentication) against MIT's, driven through python3-gssapi, with tickets from a
 * throwaway MIT KDC on loopback.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Kerberos } from "@vedauth/core"
import { makeAcceptor } from "@vedauth/test-helpers/kerberosServers"
import { REALM, type Realm, SERVICE_HOST, SPN, startRealm } from "@vedauth/test-helpers/mitRealm"
import { Effect, Layer, Redacted } from "effect"
import * as NodeKdcTransport from "../../src/NodeKdcTransport.js"
import * as NodeTokenStoreFiles from "../../src/NodeTokenStoreFiles.js"
import { mitAccept, mitInitiate } from "./gssPeer.js"

const alice = { name: "alice", password: "Correct-Horse-7" }
const bindings = new TextEncoder().encode("tls-server-end-point:" + "ab".repeat(32))
const otherBindings = new TextEncoder().encode("tls-server-end-point:" + "cd".repeat(32))
let realm: Realm
let keytabPath: string
let acceptorEnv: NodeJS.ProcessEnv
let initiatorEnv: NodeJS.ProcessEnv

beforeAll(async () => {
  realm = await startRealm([alice])
  keytabPath = await realm.keytab(SPN, "http.keytab")
  acceptorEnv = { ...realm.env, KRB5_KTNAME: `FILE:${keytabPath}` }
  initiatorEnv = { ...realm.env, KRB5CCNAME: `FILE:${await realm.kinit(alice, "alice.ccache")}` }
}, 30_000)
afterAll(() => realm?.stop())

const live = Layer.merge(
  NodeKdcTransport.layer({ timeout: "5 seconds" }),
  Layer.merge(NodeFileSystem.layer, NodeTokenStoreFiles.layer)
)
const getTicket = () =>
  Kerberos.getTicket({
    principal: `alice@${REALM}`,
    keySource: { _tag: "Password", password: Redacted.make(alice.password) },
    spn: SPN,
    kdc: `127.0.0.1:${realm.kdc.port}`
  })

const fromBase64 = (
  text: string | null | undefined
) => (text === undefined || text === null ? undefined : new Uint8Array(Buffer.from(text, "base64")))

describe("our initiator against MIT's acceptor (python3-gssapi)", () => {
  it.live("SPNEGO with the right channel bindings: accepted as alice, and MIT's AP-REP passes our mutual check", () =>
    Effect.gen(function*() {
      const initiator = yield* Kerberos.initiate(yield* getTicket(), { channelBindings: bindings })
      const answer = yield* Effect.promise(() => mitAccept(initiator.token, acceptorEnv, bindings))
      assert.strictEqual(answer.error, undefined)
      assert.isTrue(answer.complete)
      assert.strictEqual(answer.initiator, `alice@${REALM}`)
      yield* initiator.complete(fromBase64(answer.token))
    }).pipe(Effect.provide(live)))

  it.live("raw krb5 (no SPNEGO) is accepted too", () =>
    Effect.gen(function*() {
      const initiator = yield* Kerberos.initiate(yield* getTicket(), { channelBindings: bindings, spnego: false })
      const answer = yield* Effect.promise(() => mitAccept(initiator.token, acceptorEnv, bindings))
      assert.isTrue(answer.complete)
      yield* initiator.complete(fromBase64(answer.token))
    }).pipe(Effect.provide(live)))

  it.live("other channel bindings than the acceptor's connection are refused by MIT", () =>
    Effect.gen(function*() {
      const initiator = yield* Kerberos.initiate(yield* getTicket(), { channelBindings: otherBindings })
      const answer = yield* Effect.promise(() => mitAccept(initiator.token, acceptorEnv, bindings))
      assert.match(answer.error ?? "", /[Cc]hannel binding/)
    }).pipe(Effect.provide(live)))

  it.live("a tampered AP-REP, or none at all, fails mutual authentication", () =>
    Effect.gen(function*() {
      const initiator = yield* Kerberos.initiate(yield* getTicket(), { channelBindings: bindings })
      const answer = yield* Effect.promise(() => mitAccept(initiator.token, acceptorEnv, bindings))
      const token = fromBase64(answer.token)!
      const missing = yield* Effect.flip(initiator.complete(undefined))
      assert.strictEqual(missing.reason, "KRB_AP_ERR_MUT_FAIL")
      // Flip one bit inside the AP-REP's ciphertext (well before the end, where a MIC could sit).
      const tampered = token.slice()
      tampered[Math.floor(token.length / 2)]! ^= 0x01
      const error = yield* Effect.flip(initiator.complete(tampered))
      assert.oneOf(error.reason, ["KRB_AP_ERR_MUT_FAIL", "SPNEGO_BAD_MIC", "MALFORMED"])
      // The genuine answer still completes: nothing was consumed by the failures.
      yield* initiator.complete(token)
    }).pipe(Effect.provide(live)))
})

describe("MIT's initiator (python3-gssapi, kinit ccache) against our acceptor", () => {
  const acceptor = () =>
    Kerberos.readKeytab(keytabPath).pipe(Effect.map((keytab) => makeAcceptor({ keytab, requireChannelBindings: true })))

  for (const raw of [false, true]) {
    it.live(`${raw ? "raw krb5" : "SPNEGO"} with channel bindings: we accept alice, and MIT verifies our AP-REP${raw ? "" : " and mechListMIC"}`, () =>
      Effect.gen(function*() {
        const ours = yield* acceptor()
        const clients: Array<string> = []
        const { first, last } = yield* Effect.promise(() =>
          mitInitiate(
            `HTTP@${SERVICE_HOST}`,
            initiatorEnv,
            (token) =>
              Effect.runPromise(
                ours.accept(token, { channelBindings: bindings }).pipe(Effect.map((accepted) => {
                  clients.push(accepted.client)
                  return accepted.token
                }))
              ),
            { bindings, raw }
          )
        )
        assert.strictEqual(first.error, undefined)
        assert.deepStrictEqual(clients, [`alice@${REALM}`])
        assert.strictEqual(last?.error, undefined)
        assert.isTrue(last?.complete)
        // Under SPNEGO, MIT verified our mechListMIC and so answers with its own (RFC 4178 section 5).
        if (!raw) assert.isString(last?.token)
      }).pipe(Effect.provide(live)))
  }

  it.live("MIT refuses our answer when its mechListMIC is altered", () =>
    Effect.gen(function*() {
      const ours = yield* acceptor()
      const { last } = yield* Effect.promise(() =>
        mitInitiate(`HTTP@${SERVICE_HOST}`, initiatorEnv, (token) =>
          Effect.runPromise(
            ours.accept(token, { channelBindings: bindings }).pipe(Effect.map((accepted) => {
              // The MIC is the NegTokenResp's last field: its checksum ends the token.
              const altered = accepted.token.slice()
              altered[altered.length - 1]! ^= 0x01
              return altered
            }))
          ), { bindings })
      )
      assert.include(last?.error ?? "", "invalid Message Integrity Check")
    }).pipe(Effect.provide(live)))

  it.live("wrong channel bindings, and none when they are required, are refused", () =>
    Effect.gen(function*() {
      const ours = yield* acceptor()
      const refusals: Array<string> = []
      for (const peerBindings of [otherBindings, undefined]) {
        yield* Effect.promise(() =>
          mitInitiate(`HTTP@${SERVICE_HOST}`, initiatorEnv, (token) =>
            Effect.runPromise(
              ours.accept(token, { channelBindings: bindings }).pipe(
                Effect.flip,
                Effect.map((error) => {
                  refusals.push(error.detail)
                  return new Uint8Array(0)
                })
              )
            ), peerBindings === undefined ? {} : { bindings: peerBindings })
        )
      }
      assert.strictEqual(refusals.length, 2)
      assert.include(refusals[0], "do not match")
      assert.include(refusals[1], "no channel bindings")
    }).pipe(Effect.provide(live)))
})
