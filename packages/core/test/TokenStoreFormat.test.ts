import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as TokenStoreFormat from "../src/TokenStoreFormat.js"

describe("TokenStoreFormat (the rules the CLI's lean path shares)", () => {
  it("imports nothing but types: no Effect, no platform", () => {
    const source = readFileSync(new URL("../src/TokenStoreFormat.ts", import.meta.url), "utf8")
    const imports = [...source.matchAll(/^import\s.*$/gm)].map(([line]) => line)
    assert.isTrue(imports.every((line) => line.startsWith("import type ")), imports.join("\n"))
  })

  it("normalises keys, and reads back the keys it wrote only", () => {
    const text = TokenStoreFormat.keyString({
      server: "https://TPP.example/vedauth//",
      clientId: "App",
      scope: "S",
      user: "CORP\\Alice"
    })
    assert.strictEqual(text, JSON.stringify(["https://tpp.example/vedauth", "App", "S", "corp\\alice"]))
    assert.deepStrictEqual(TokenStoreFormat.parseKey(text), {
      server: "https://tpp.example/vedauth",
      clientId: "App",
      scope: "S",
      user: "corp\\alice"
    })
    for (const foreign of ["", "{", "[1,2,3,4]", "[\"a\",\"b\",\"c\"]", "{\"server\":\"x\"}"]) {
      assert.isUndefined(TokenStoreFormat.parseKey(foreign), foreign)
    }
  })

  it("round-trips the file, reads version 1, refuses what it does not know", () => {
    const data = { revision: 3, records: { k: { version: 2, grant: { accessToken: "a" } } } }
    assert.deepStrictEqual(TokenStoreFormat.parseStore(TokenStoreFormat.printStore(data)), { ok: true, value: data })
    const v1 = JSON.stringify({ format: "vedauth-token-store", version: 1, grants: { k: { accessToken: "a" } } })
    assert.deepStrictEqual(TokenStoreFormat.parseStore(v1), {
      ok: true,
      value: { revision: 0, records: { k: { version: 0, grant: { accessToken: "a" } } } }
    })
    for (
      const text of [
        "not json",
        "[]",
        JSON.stringify({ format: "other", version: 2, revision: 0, grants: {} }),
        JSON.stringify({ format: "vedauth-token-store", version: 3, revision: 0, grants: {} }),
        JSON.stringify({ format: "vedauth-token-store", version: 2, grants: {} }),
        JSON.stringify({
          format: "vedauth-token-store",
          version: 2,
          revision: 1,
          grants: { k: { version: 2, grant: {} } }
        })
      ]
    ) {
      assert.isFalse(TokenStoreFormat.parseStore(text).ok, text)
    }
  })

  it("tells store URLs from paths, Windows drives included", () => {
    assert.strictEqual(TokenStoreFormat.storeUrlScheme("REDISS://user:pw@host"), "rediss")
    for (const path of ["C://Users/a/tokens.json", "C:\\tokens.json", "/tmp/tokens.json", "tokens.json"]) {
      assert.isFalse(TokenStoreFormat.isStoreUrl(path), path)
    }
  })

  it("places the default store under XDG_STATE_HOME, else HOME, else LOCALAPPDATA; empty is unset", () => {
    const at = (env: Record<string, string>) => TokenStoreFormat.defaultLocation((name) => env[name])
    assert.deepStrictEqual(at({ XDG_STATE_HOME: "/s", HOME: "/h" }), {
      variable: "XDG_STATE_HOME",
      segments: ["/s", "vedauth", "tokens.json"]
    })
    assert.deepStrictEqual(at({ XDG_STATE_HOME: "", HOME: "/h" }), {
      variable: "HOME",
      segments: ["/h", ".local", "state", "vedauth", "tokens.json"]
    })
    assert.deepStrictEqual(at({ HOME: "", LOCALAPPDATA: "C:\\L" }), {
      variable: "LOCALAPPDATA",
      segments: ["C:\\L", "vedauth", "tokens.json"]
    })
    assert.isUndefined(at({}))
  })

  it("hands a grant out until its refresh window: 10% of its lifetime within [30 s, 5 min], expiry when it cannot refresh", () => {
    const hour = 3_600_000
    const grant = { issuedAt: 0, expiresAt: hour, refreshUntil: undefined, refreshable: true }
    assert.strictEqual(TokenStoreFormat.freshUntilMillis(grant), hour - 300_000, "6 minutes clamped to 5")
    assert.strictEqual(
      TokenStoreFormat.freshUntilMillis({ ...grant, expiresAt: 100_000 }),
      70_000,
      "10 seconds raised to 30"
    )
    assert.strictEqual(TokenStoreFormat.freshUntilMillis({ ...grant, expiresAt: 1_000_000 }), 900_000)
    assert.strictEqual(TokenStoreFormat.freshUntilMillis(grant, 1_000), hour - 1_000, "a configured window")
    assert.strictEqual(TokenStoreFormat.freshUntilMillis({ ...grant, refreshable: false }), hour)
    assert.strictEqual(
      TokenStoreFormat.freshUntilMillis({ ...grant, refreshUntil: 60_000 }),
      60_000,
      "never past the grant's end"
    )
  })
})
