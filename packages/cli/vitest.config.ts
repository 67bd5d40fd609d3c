import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "cli",
    include: ["test/**/*.test.ts"],
    // The tests drive the real bundled executable: build it once first.
    globalSetup: ["test/support/buildCli.ts"],
    testTimeout: 60_000
  }
})
