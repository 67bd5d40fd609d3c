// What a published tarball must and must not hold, read from the tarball itself. Each function
// returns a list of problems (empty: fine).
import { readdirSync } from "node:fs"
import { join } from "node:path"

const forbidden = [/(^|\/)test\//, /(^|\/)tsconfig[^/]*\.json$/, /\.tsbuildinfo$/, /vitest\.config/, /(^|\/)conformance\//, /(^|\/)build\//]

/** Common to every package: no workspace ranges, README and LICENSE present, no tests or configs. */
export const commonProblems = (pkg) => {
  const problems = []
  if (JSON.stringify(pkg.manifest).includes("workspace:")) problems.push("a workspace: range is left in the manifest")
  for (const required of ["package.json", "README.md", "LICENSE"]) {
    if (!pkg.files.includes(required)) problems.push(`${required} is missing`)
  }
  for (const file of pkg.files) {
    if (forbidden.some((pattern) => pattern.test(file))) problems.push(`ships ${file}`)
  }
  if (pkg.manifest.engines?.node === undefined) problems.push("no engines.node")
  // Users are told the supported lines by the packed manifest (publishConfig.engines), not the
  // workspace's own (which still runs on Node 20).
  else if (pkg.manifest.engines.node !== pkg.source.publishConfig?.engines?.node) {
    problems.push(`engines.node is ${pkg.manifest.engines.node}, not publishConfig.engines.node`)
  }
  return problems
}

/**
 * A library: every public module (src/X.ts) has an export with `types` and `default` whose files
 * are in the tarball, internals are closed, and the sources the maps point at are shipped.
 */
export const libraryProblems = (pkg, root) => {
  const problems = []
  const exports = pkg.manifest.exports ?? {}
  if (exports["./internal/*"] !== null) problems.push(`"./internal/*" is not null in exports`)
  const modules = readdirSync(join(root, "packages", pkg.dir, "src")).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3))
  for (const module of modules) {
    const key = module === "index" ? "." : `./${module}`
    const entry = exports[key]
    if (entry === undefined) {
      problems.push(`public module src/${module}.ts has no export "${key}"`)
      continue
    }
    for (const condition of ["types", "default"]) {
      const target = entry[condition]?.replace(/^\.\//, "")
      if (target === undefined) problems.push(`export "${key}" has no "${condition}"`)
      else if (!pkg.files.includes(target)) problems.push(`export "${key}" ${condition} -> ${target}, not in the tarball`)
    }
    for (const shipped of [`dist/${module}.js.map`, `dist/${module}.d.ts.map`, `src/${module}.ts`]) {
      if (!pkg.files.includes(shipped)) problems.push(`${shipped} is missing`)
    }
  }
  return problems
}

/** The CLI: nothing to install but itself, and its bin in the tarball. */
export const cliProblems = (pkg) => {
  const problems = []
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    const names = Object.keys(pkg.manifest[field] ?? {})
    if (names.length > 0) problems.push(`${field}: ${names.join(", ")} (the bundle carries them)`)
  }
  for (const bin of Object.values(pkg.manifest.bin ?? {})) {
    if (!pkg.files.includes(bin.replace(/^\.\//, ""))) problems.push(`bin ${bin} is not in the tarball`)
  }
  return problems
}

/**
 * The Promise client: its runtime bundled, so no Effect in its dependencies or peers, and its one
 * entry's hand-written types and bundle in the tarball.
 */
export const clientProblems = (pkg) => {
  const problems = []
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    const effects = Object.keys(pkg.manifest[field] ?? {}).filter((name) => name === "effect" || name.startsWith("@effect/"))
    if (effects.length > 0) problems.push(`${field}: ${effects.join(", ")} (the bundle carries Effect)`)
  }
  for (const condition of ["types", "default"]) {
    const target = pkg.manifest.exports?.["."]?.[condition]?.replace(/^\.\//, "")
    if (target === undefined || !pkg.files.includes(target)) problems.push(`export "." ${condition} -> ${target}, not in the tarball`)
  }
  return problems
}
