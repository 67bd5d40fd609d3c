import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Either } from "effect"
import * as VedAuth from "../src/VedAuth.js"

const fromEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(
    ConfigProvider.fromMap(
      new Map(
        Object.entries({
          VEDAUTH_URL: "https://tpp.example",
          VEDAUTH_CLIENT_ID: "app",
          VEDAUTH_SCOPE: "certificate",
          ...env
        })
      )
    )
  )

describe("VedAuth.config: the Kerberos variables", () => {
  it.effect("none set: no mechanism and no kerberos options (NTLM as before)", () =>
    Effect.gen(function*() {
      const options = yield* VedAuth.config
      assert.isUndefined(options.mechanism)
      assert.isUndefined(options.kerberos)
    }).pipe(fromEnv({})))

  it.effect("every variable into mechanism and kerberos; several KDCs by commas; FILE: names become paths", () =>
    Effect.gen(function*() {
      const options = yield* VedAuth.config.pipe(fromEnv({
        VEDAUTH_MECHANISM: "Kerberos",
        VEDAUTH_REALM: "CORP.EXAMPLE",
        VEDAUTH_KDC: "kdc1.corp.example, 127.0.0.1:8888,[::1]:88",
        VEDAUTH_SPN: "HTTP/tpp.corp.example",
        VEDAUTH_KEYTAB: "FILE:/etc/vedauth/alice.keytab",
        KRB5CCNAME: "/tmp/krb5cc_1000"
      }))
      assert.strictEqual(options.mechanism, "kerberos")
      assert.deepStrictEqual(options.kerberos, {
        realm: "CORP.EXAMPLE",
        kdc: ["kdc1.corp.example", "127.0.0.1:8888", "[::1]:88"],
        spn: "HTTP/tpp.corp.example",
        keytab: "/etc/vedauth/alice.keytab",
        cache: "/tmp/krb5cc_1000"
      })
    }))

  it.effect("VEDAUTH_KEYTAB wins over MIT's KRB5_CLIENT_KTNAME, which is used alone", () =>
    Effect.gen(function*() {
      const both = yield* VedAuth.config.pipe(
        fromEnv({ VEDAUTH_KEYTAB: "/a.keytab", KRB5_CLIENT_KTNAME: "FILE:/b.keytab" })
      )
      assert.strictEqual(both.kerberos?.keytab, "/a.keytab")
      const mit = yield* VedAuth.config.pipe(fromEnv({ KRB5_CLIENT_KTNAME: "FILE:/b.keytab" }))
      assert.deepStrictEqual(mit.kerberos, { keytab: "/b.keytab" })
      assert.isUndefined(mit.mechanism)
    }))

  it.effect("a bad mechanism, KDC, or a cache or keytab that is not a file: a ConfigError naming the variable and the type", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, string>, string, RegExp]> = [
        [{ VEDAUTH_MECHANISM: "digest" }, "VEDAUTH_MECHANISM", /negotiate, kerberos or ntlm/],
        [{ VEDAUTH_KDC: "kdc.example:99999" }, "VEDAUTH_KDC", /not a KDC address/],
        [
          { VEDAUTH_MECHANISM: "kerberos", KRB5CCNAME: "KEYRING:persistent:1000" },
          "KRB5CCNAME",
          /a KEYRING: credential cache/
        ],
        [{ KRB5CCNAME: "FILE:" }, "KRB5CCNAME", /an empty FILE: credential cache/],
        [{ KRB5_CLIENT_KTNAME: "MEMORY:client" }, "KRB5_CLIENT_KTNAME", /a MEMORY: keytab/],
        [{ VEDAUTH_KEYTAB: "MEMORY:client", KRB5_CLIENT_KTNAME: "/ok.keytab" }, "VEDAUTH_KEYTAB", /a MEMORY: keytab/]
      ]
      for (const [env, variable, detail] of cases) {
        const error = yield* Effect.flip(VedAuth.config.pipe(fromEnv(env)))
        assert.include(String(error), variable, JSON.stringify(env))
        assert.match(String(error), detail, JSON.stringify(env))
      }
    }))

  it.effect("under negotiate a KEYRING: cache (sssd's) is passed over, not an error; a KCM: cache is kept by its name, under either mechanism", () =>
    Effect.gen(function*() {
      const keyring = yield* VedAuth.config.pipe(fromEnv({ KRB5CCNAME: "KEYRING:persistent:1000" }))
      assert.isUndefined(keyring.kerberos)
      const kcm = yield* VedAuth.config.pipe(
        fromEnv({ VEDAUTH_MECHANISM: "negotiate", KRB5CCNAME: "KCM:", VEDAUTH_REALM: "CORP.EXAMPLE" })
      )
      assert.deepStrictEqual(kcm.kerberos, { realm: "CORP.EXAMPLE", cache: "KCM:" })
      const named = yield* VedAuth.config.pipe(fromEnv({ VEDAUTH_MECHANISM: "kerberos", KRB5CCNAME: "KCM:1000" }))
      assert.deepStrictEqual(named.kerberos, { cache: "KCM:1000" })
    }))

  it.effect("VEDAUTH_MECHANISM=ntlm reads no Kerberos setting: an unreadable cache type is then no error", () =>
    Effect.gen(function*() {
      const options = yield* VedAuth.config.pipe(
        fromEnv({ VEDAUTH_MECHANISM: "ntlm", KRB5CCNAME: "KCM:", VEDAUTH_REALM: "CORP.EXAMPLE" })
      )
      assert.strictEqual(options.mechanism, "ntlm")
      assert.isUndefined(options.kerberos)
    }))
})

describe("VedAuth.kerberosFromText", () => {
  it("empty text is no setting; the problem names the setting at fault", () => {
    assert.deepStrictEqual(
      VedAuth.kerberosFromText({ mechanism: "", realm: " ", kdc: ",", cache: "" }),
      Either.right({})
    )
    const problem = VedAuth.kerberosFromText({ keytab: "DIR:/var/keytabs" })
    assert.isTrue(Either.isLeft(problem))
    if (Either.isLeft(problem)) assert.strictEqual(problem.left.setting, "keytab")
  })
})
