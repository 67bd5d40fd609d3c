// The programs a user would write, taken from the docs as they are printed, plus the consumer's
// own files: a strict tsconfig, a module importing every public entry point, a Deno program and a
// script that serves the simulator from the installed @vedauth/testing.
import { readFileSync } from "node:fs"
import { join } from "node:path"

/** The first fenced block of `language` after `heading` in a Markdown file. */
export const fencedBlock = (file, heading, language) => {
  const text = readFileSync(file, "utf8")
  const at = text.indexOf(heading)
  if (at < 0) throw new Error(`${file}: no heading '${heading}'`)
  const match = new RegExp("```" + language + "\\n([\\s\\S]*?)```").exec(text.slice(at))
  if (match === null) throw new Error(`${file}: no \`\`\`${language} block after '${heading}'`)
  return match[1]
}

/** README's program and getting-started's, as printed; getting-started must match its checked example. */
export const documentedPrograms = (root) => {
  const readme = fencedBlock(join(root, "README.md"), "## Use it in your project", "js")
  const gettingStarted = fencedBlock(join(root, "docs", "getting-started.md"), "## The whole program", "js")
  const example = readFileSync(join(root, "docs", "examples", "getting-started.ts"), "utf8")
  const exampleBody = example.slice(example.indexOf("*/\n") + 3)
  if (exampleBody !== gettingStarted) {
    throw new Error("docs/getting-started.md's program differs from docs/examples/getting-started.ts (after its header)")
  }
  return { readme, gettingStarted }
}

/**
 * A consumer's strict settings, every declaration checked (skipLibCheck off). DOM is in `lib` because
 * @effect/platform's own declarations name DOM types (Transferable, MessagePort); ours need none.
 */
export const consumerTsconfig = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022", "DOM"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    exactOptionalPropertyTypes: true,
    noPropertyAccessFromIndexSignature: true,
    verbatimModuleSyntax: true,
    erasableSyntaxOnly: true,
    skipLibCheck: false,
    noEmit: true,
    types: ["node"]
  },
  include: ["*.ts"]
}

/** Imports every public entry point of every library, and asserts that internals stay closed. */
export const entryPointsModule = (libraries) => {
  const lines = []
  libraries.forEach((pkg, p) => {
    Object.keys(pkg.manifest.exports).filter((key) => key !== "./package.json" && !key.includes("*")).forEach((key, m) => {
      lines.push(`import * as m${p}_${m} from "${pkg.name}${key.slice(1)}"`)
      lines.push(`export const e${p}_${m} = Object.keys(m${p}_${m}).length`)
    })
  })
  lines.push(`// @ts-expect-error internals are not part of the published API`)
  lines.push(`import type * as Internal from "@vedauth/core/internal/errors"`)
  lines.push(`export type Closed = typeof Internal`)
  return lines.join("\n") + "\n"
}

/** Deno, from the installed node_modules: npm: specifiers resolve there (--node-modules-dir=manual). */
export const denoProgram = `import { VedAuth } from "npm:@vedauth/core"
import { DenoVedAuth } from "npm:@vedauth/platform-deno"
import { Console, Effect } from "npm:effect"

const program = Effect.gen(function*() {
  const grant = yield* VedAuth.grant
  yield* Console.log(\`deno: scope \${grant.scope}, identity \${grant.identity}\`)
})

await Effect.runPromise(program.pipe(Effect.provide(DenoVedAuth.layerConfig())))
`

/** Serves the simulator over HTTPS from the installed package; prints the URL, stops when stdin ends. */
export const simulatorServer = `import { Simulator } from "@vedauth/testing"

const served = await Simulator.start({ caPemPath: process.argv[2] })
console.log(served.url)
process.stdin.resume()
process.stdin.on("end", () => served.close().then(() => process.exit(0)))
`
