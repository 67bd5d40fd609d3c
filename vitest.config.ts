import { defineConfig } from "vitest/config"

// One project per package (vitest 3.2 `test.projects`; `vitest.workspace.ts` is deprecated).
export default defineConfig({
  test: {
    projects: ["packages/*"]
  }
})
