import { defineConfig } from "vitest/config"

// One project per package (vitest 3.2 `test.projects`; `vitest.workspace.ts` is deprecated), but
// the test helpers' package, which has no tests of its own.
export default defineConfig({
  test: {
    projects: ["packages/*", "!packages/test-helpers"]
  }
})
