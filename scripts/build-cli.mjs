// Bundles the `vedauth` command so that start-up loads only what it needs: no TypeScript loader,
// no module resolution across the workspace at run time, and code split so that `vedauth token`
// answered from the store loads the executable and one small chunk (no Effect, no core library),
// while every other command loads the full command line, and the HTTP client, only when needed.
import { build } from "esbuild"
import { copyFileSync, existsSync, rmSync } from "node:fs"

const entry = "packages/cli/src/bin.ts"
if (!existsSync(entry)) {
  console.log("build-cli: no CLI entry yet, nothing to bundle")
  process.exit(0)
}
rmSync("packages/cli/dist", { recursive: true, force: true })
await build({
  entryPoints: { vedauth: entry },
  outdir: "packages/cli/dist",
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: "linked",
  legalComments: "none",
  banner: {
    // ESM output still meets CommonJS dependencies that call require().
    js: "import { createRequire as __vedauthCreateRequire } from 'node:module'; const require = __vedauthCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
})
// The command-line guide ships beside the executable, where `vedauth help` points.
copyFileSync("docs/cli.md", "packages/cli/dist/cli.md")
