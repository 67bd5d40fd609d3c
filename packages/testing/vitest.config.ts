import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "testing",
    include: ["test/**/*.test.ts"],
    // A folder for this run's Samba AD domain, provisioned only when a test file asks (sambaAd.ts).
    globalSetup: ["test/sambaAdGlobal.ts"],
    testTimeout: 30_000
  }
})
