/**
 * NodeSystemKerberos without the addon: what a program sees when `kerberos` is not installed, its
 * native build failed, or something else answers to the name; the service name GSS-API and SSPI
 * are given. The addon itself, against the simulator: packages/testing/test/SystemKerberos.interop.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import type { KerberosError } from "@vedauth/core/VedAuthError"
import { Effect } from "effect"
import * as internal from "../src/internal/systemKerberos.js"

const target = { spn: "HTTP/tpp.corp.example", url: "https://tpp.corp.example" }

const unavailable = (load: () => Promise<unknown>) =>
  Effect.gen(function*() {
    const service = yield* internal.make(internal.loadAddon(load))
    const error: KerberosError = yield* Effect.flip(service.initiate(target))
    assert.strictEqual(error._tag, "KerberosError")
    assert.strictEqual(error.reason, "SYSTEM_KERBEROS_UNAVAILABLE")
    assert.include(error.hint ?? "", "npm i kerberos@7")
    assert.include(error.hint ?? "", "apt-get install libkrb5-dev g++ make python3")
    return error
  })

describe("NodeSystemKerberos when the addon cannot be used", () => {
  it.effect("not installed: a typed error with the install hint", () =>
    Effect.gen(function*() {
      const error = yield* unavailable(() => import("vedauth-no-such-module-" + "kerberos"))
      assert.include(error.detail, "could not be loaded")
      assert.include(error.detail, "vedauth-no-such-module-kerberos")
    }))

  it.effect("installed but not built (the addon's own require of build/*/kerberos.node fails)", () =>
    Effect.gen(function*() {
      const error = yield* unavailable(() =>
        Promise.reject(new Error("Cannot find module '../build/Debug/kerberos.node'\nRequire stack:\n- /x/lib/util.js"))
      )
      // The first line only: no require stack in the error.
      assert.strictEqual(
        error.detail,
        "the kerberos addon could not be loaded: Cannot find module '../build/Debug/kerberos.node'"
      )
    }))

  it.effect("no libgssapi_krb5.so.2 on the system", () =>
    Effect.gen(function*() {
      const error = yield* unavailable(() =>
        Promise.reject(new Error("libgssapi_krb5.so.2: cannot open shared object file: No such file or directory"))
      )
      assert.include(error.detail, "libgssapi_krb5.so.2")
    }))

  it.effect("a module of another shape answers to the name", () =>
    Effect.gen(function*() {
      const error = yield* unavailable(() => Promise.resolve({ default: { version: "1.0.0" } }))
      assert.include(error.detail, "not the kerberos addon")
    }))

  it.effect("loaded at most once per layer, and not before an authorize asks", () =>
    Effect.gen(function*() {
      let loads = 0
      const service = yield* internal.make(internal.loadAddon(() => {
        loads++
        return Promise.reject(new Error("not here"))
      }))
      assert.strictEqual(loads, 0)
      yield* Effect.flip(service.initiate(target))
      yield* Effect.flip(service.initiate(target))
      assert.strictEqual(loads, 1)
    }))
})

describe("the service name", () => {
  it("GSS-API takes a host-based name, HTTP@host; the realm comes from krb5.conf", () => {
    assert.strictEqual(internal.serviceName("HTTP/tpp.corp.example", "linux"), "HTTP@tpp.corp.example")
    assert.strictEqual(internal.serviceName("HTTP/tpp.corp.example@CORP.EXAMPLE", "darwin"), "HTTP@tpp.corp.example")
  })

  it("SSPI takes the SPN as it is", () => {
    assert.strictEqual(internal.serviceName("HTTP/tpp.corp.example", "win32"), "HTTP/tpp.corp.example")
  })
})
