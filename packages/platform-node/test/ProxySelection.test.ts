import { assert, describe, it } from "@effect/vitest"
import { TransportError } from "@vedauth/core/VedAuthError"
import { ConfigProvider, Effect, FastCheck, Redacted } from "effect"
import { bypasses, parseNoProxy, parseProxy, proxyFor, type Routes, routes } from "../src/internal/proxy.js"
import * as NodeNtlmTransport from "../src/NodeNtlmTransport.js"
import * as NodeVedAuth from "../src/NodeVedAuth.js"

const mustRoute = (settings: Parameters<typeof routes>[0], env: Record<string, string>): Routes => {
  const result = routes(settings, env)
  if (result instanceof TransportError) throw new Error(result.detail)
  return result
}

const via = (r: Routes, url: string): string | undefined => {
  const u = new URL(url)
  const port = u.port === "" ? (u.protocol === "https:" ? 443 : 80) : Number(u.port)
  return proxyFor(r, u.protocol, u.hostname, port)?.shown
}

describe("proxy selection (as curl)", () => {
  it("https_proxy/HTTPS_PROXY for https, lower-case http_proxy only for http, empty values unset", () => {
    const table: ReadonlyArray<readonly [Record<string, string>, string, string | undefined]> = [
      [{ HTTPS_PROXY: "proxy.corp:3128" }, "https://tpp.corp/vedauth", "proxy.corp:3128"],
      [{ https_proxy: "http://low:1", HTTPS_PROXY: "http://up:2" }, "https://tpp.corp/", "low:1"],
      [{ https_proxy: "", HTTPS_PROXY: "http://up:2" }, "https://tpp.corp/", "up:2"],
      [{ HTTPS_PROXY: "http://p:3" }, "http://tpp.corp/", undefined],
      [{ http_proxy: "http://p:4" }, "http://tpp.corp/", "p:4"],
      // curl ignores upper-case HTTP_PROXY (httpoxy: CGI puts a request's Proxy header there).
      [{ HTTP_PROXY: "http://p:5" }, "http://tpp.corp/", undefined],
      [{ http_proxy: "http://p:4" }, "https://tpp.corp/", undefined],
      // No port: curl's 1080. Loopback is proxied, as curl does.
      [{ HTTPS_PROXY: "http://p" }, "https://127.0.0.1:8443/", "p:1080"],
      [{ HTTPS_PROXY: "http://p:1", NO_PROXY: "127.0.0.1" }, "https://127.0.0.1:8443/", undefined],
      [{ HTTPS_PROXY: "http://p:1", no_proxy: "localhost", NO_PROXY: "*" }, "https://tpp.corp/", "p:1"]
    ]
    for (const [env, url, expected] of table) {
      assert.strictEqual(via(mustRoute({}, env), url), expected, `${JSON.stringify(env)} ${url}`)
    }
  })

  it("an explicit proxy wins over the variables and applies to both schemes; false turns them off", () => {
    const env = { HTTPS_PROXY: "http://env:1", http_proxy: "http://env:2" }
    const explicit = mustRoute({ proxy: "http://mine:3" }, env)
    assert.strictEqual(via(explicit, "https://tpp/"), "mine:3")
    assert.strictEqual(via(explicit, "http://tpp/"), "mine:3")
    assert.strictEqual(via(mustRoute({ proxy: Redacted.make("mine:4") }, env), "https://tpp/"), "mine:4")
    assert.strictEqual(via(mustRoute({ proxy: false }, env), "https://tpp/"), undefined)
    // NO_PROXY still applies to an explicit proxy, and the noProxy option replaces the variable.
    assert.strictEqual(via(mustRoute({ proxy: "mine:3" }, { NO_PROXY: "tpp" }), "https://tpp/"), undefined)
    assert.strictEqual(
      via(mustRoute({ proxy: "mine:3", noProxy: "other" }, { NO_PROXY: "tpp" }), "https://tpp/"),
      "mine:3"
    )
  })

  it("NO_PROXY entries: names, domain suffixes with or without a dot, addresses, CIDR, ports, *", () => {
    const table: ReadonlyArray<readonly [string, string, number, boolean]> = [
      ["tpp.corp", "tpp.corp", 443, true],
      ["tpp.corp", "TPP.Corp.", 443, true],
      ["corp", "tpp.corp", 443, true],
      [".corp", "tpp.corp", 443, true],
      [".corp", "corp", 443, true],
      ["corp", "notcorp", 443, false],
      ["tpp.corp:8443", "tpp.corp", 8443, true],
      ["tpp.corp:8443", "tpp.corp", 443, false],
      ["10.0.0.0/8", "10.1.2.3", 443, true],
      ["10.0.0.0/8", "11.1.2.3", 443, false],
      ["127.0.0.1", "127.0.0.1", 1, true],
      ["127.0.0.1:9", "127.0.0.1", 9, true],
      ["::1", "[::1]", 443, true],
      ["[::1]:8443", "::1", 8443, true],
      ["[::1]:8443", "::1", 443, false],
      ["fd00::/8", "fd12::1", 443, true],
      ["a, b  c,,tpp", "tpp", 443, true],
      ["*", "anything", 443, true],
      ["localhost", "127.0.0.1", 443, false],
      // An address never matches a name suffix.
      ["0.1", "10.0.0.1", 443, false]
    ]
    for (const [list, host, port, expected] of table) {
      assert.strictEqual(bypasses(parseNoProxy(list), host, port), expected, `${list} / ${host}:${port}`)
    }
  })

  it("any host is bypassed by itself and by each of its parent domains, and by nothing else from a disjoint list", () => {
    const label = FastCheck.stringMatching(/^[a-z][a-z0-9-]{0,10}$/)
    FastCheck.assert(
      FastCheck.property(
        FastCheck.array(label, { minLength: 1, maxLength: 5 }),
        FastCheck.nat({ max: 65535 }),
        (labels, port) => {
          const host = labels.join(".")
          for (let i = 0; i < labels.length; i++) {
            const suffix = labels.slice(i).join(".")
            if (!bypasses(parseNoProxy(suffix), host, port)) return false
            if (!bypasses(parseNoProxy(`.${suffix}`), host, port)) return false
            if (!bypasses(parseNoProxy(`${suffix}:${port}`), host, port)) return false
          }
          return !bypasses(parseNoProxy(`x${host}, ${host}.x`), host, port)
        }
      )
    )
  })

  it("parseNoProxy never throws on arbitrary text", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.string({ maxLength: 200 }), FastCheck.string({ maxLength: 40 }), (list, host) => {
        bypasses(parseNoProxy(list), host, 443)
        return true
      })
    )
  })

  it("the URL's user and password, percent-decoded, are a Basic Proxy-Authorization, never in `shown`", () => {
    const proxy = parseProxy("http://us%40er:p%3Ass%20w@proxy.corp:3128", "HTTPS_PROXY")
    assert.strictEqual(proxy.shown, "proxy.corp:3128")
    assert.strictEqual(Redacted.value(proxy.authorization!), `Basic ${Buffer.from("us@er:p:ss w").toString("base64")}`)
    assert.strictEqual(String(proxy.authorization), "<redacted>")
    assert.isUndefined(parseProxy("proxy.corp:3128", "x").authorization)
    assert.strictEqual(parseProxy("http://[::1]:3128", "x").host, "::1")
  })

  it("an unusable proxy setting is a TransportError naming the variable, never the text", () => {
    const table: ReadonlyArray<readonly [Record<string, string>, string]> = [
      [{ HTTPS_PROXY: "socks5://user:s3cret@p:1080" }, "HTTPS_PROXY uses socks5://"],
      [{ HTTPS_PROXY: "https://user:s3cret@p:443" }, "only http:// proxies"],
      [{ HTTPS_PROXY: "http://user:s3cret%zz@p:1" }, "not valid percent-encoding"],
      [{ https_proxy: "http://user:s3cret@p:99999" }, "https_proxy is not a valid URL"]
    ]
    for (const [env, expected] of table) {
      const result = routes({}, env)
      assert.instanceOf(result, TransportError)
      const detail = (result as TransportError).detail
      assert.include(detail, expected)
      assert.notInclude(detail, "s3cret")
    }
  })

  it.effect("VEDAUTH_PROXY (Redacted) and VEDAUTH_NO_PROXY reach the transport options through config", () =>
    Effect.gen(function*() {
      const provider = ConfigProvider.fromMap(
        new Map([
          ["VEDAUTH_URL", "https://tpp.corp"],
          ["VEDAUTH_CLIENT_ID", "id"],
          ["VEDAUTH_SCOPE", "certificate:manage"],
          ["VEDAUTH_PROXY", "http://u:s3cret@proxy.corp:3128"],
          ["VEDAUTH_NO_PROXY", "10.0.0.0/8"]
        ])
      )
      const options = yield* Effect.withConfigProvider(NodeVedAuth.config, provider)
      const proxy = options.transport?.proxy
      assert.isTrue(Redacted.isRedacted(proxy))
      assert.strictEqual(Redacted.value(proxy as Redacted.Redacted<string>), "http://u:s3cret@proxy.corp:3128")
      assert.strictEqual(options.transport?.noProxy, "10.0.0.0/8")
      assert.notInclude(JSON.stringify(options), "s3cret")
      // Unset: nothing, so the environment's HTTPS_PROXY applies.
      const none = yield* Effect.withConfigProvider(NodeNtlmTransport.config, ConfigProvider.fromMap(new Map()))
      assert.deepStrictEqual(NodeNtlmTransport.fromConfig(none), {})
    }))
})
