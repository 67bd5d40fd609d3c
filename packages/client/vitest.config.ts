import { defineProject } from "vitest/config"

export default defineProject({
  test: {
    name: "client",
    include: ["test/**/*.test.ts"],
    // The install test packs the bundle and installs it with npm into a fresh project.
    testTimeout: 240_000,
    // The install and runtime tests both build the bundle (the build starts by removing dist/): one file at a time.
    fileParallelism: false
  }
})
