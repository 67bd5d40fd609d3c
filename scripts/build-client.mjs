// Bundles @vedauth/client with its runtime inside: the core, the Node layers and the Effect they
// are written in, so that the package has no dependency to install and sits beside Effect 3,
// Effect 4 or no Effect at all. Code split (like the CLI): a program that finds a fresh token in
// the store loads neither the HTTP client nor undici. The public types are the hand-written
// packages/client/index.d.ts, which names no Effect type.
import { build } from "esbuild"
import { rmSync } from "node:fs"

// The client's HTTP calls go through NodeHttpClient's node:https client (NodeVedAuth.layerHttpClient);
// its undici client is never built, yet the module imports undici (half the bundle). In its place,
// a module that says so if anything ever reaches for it.
const withoutUndici = {
  name: "without-undici",
  setup(build) {
    build.onResolve({ filter: /^undici$/ }, () => ({ path: "undici", namespace: "without-undici" }))
    build.onLoad({ filter: /.*/, namespace: "without-undici" }, () => ({
      contents: "const unused = () => { throw new Error('@vedauth/client carries no undici') }\n" +
        "export const Agent = unused, getGlobalDispatcher = unused\nexport default { Agent, getGlobalDispatcher }\n",
      loader: "js"
    }))
  }
}

const dist = "packages/client/dist"
rmSync(dist, { recursive: true, force: true })
await build({
  entryPoints: { index: "packages/client/src/index.ts" },
  outdir: dist,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  minify: true,
  platform: "node",
  format: "esm",
  target: "node22",
  legalComments: "none",
  plugins: [withoutUndici],
  // The system Kerberos addon stays the program's own (an optional peer), loaded only when used.
  external: ["kerberos"],
  banner: {
    // ESM output still meets CommonJS dependencies that call require().
    js: "import { createRequire as __vedauthCreateRequire } from 'node:module'; const require = __vedauthCreateRequire(import.meta.url);"
  },
  logLevel: "warning"
})
