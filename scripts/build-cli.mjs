// Bundles the `vedauth` command into one ESM file so that start-up loads only what it needs
// (no TypeScript loader, no module resolution across the workspace at run time).
import { build } from "esbuild"
import { existsSync } from "node:fs"

const entry = "packages/cli/src/bin.ts"
if (!existsSync(entry)) {
  console.log("build-cli: no CLI entry yet, nothing to bundle")
  process.exit(0)
}
await build({
  entryPoints: [entry],
  outfile: "packages/cli/dist/vedauth.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: false,
  sourcemap: "linked",
  legalComments: "none",
  banner: {
    // ESM output still meets CommonJS dependencies that call require().
    js: "#!/usr/bin/env node\nimport { createRequire as __vedauthCreateRequire } from 'node:module'; const require = __vedauthCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
})
