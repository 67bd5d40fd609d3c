// `pnpm kerberos-addon`: builds the optional `kerberos` addon (NodeSystemKerberos) from source
// against the system's MIT Kerberos (Debian libkrb5-dev, g++, make, python3: scripts/system-deps.sh).
//
// pnpm is told to ignore the addon's own install script (`pnpm.ignoredBuiltDependencies`): run at
// install time it would first try a prebuilt download from GitHub, and a failed native build there
// fails `pnpm install --frozen-lockfile` for everyone, including those who never touch Kerberos.
// Here a failure fails this step only (and the tests that need the addon, loudly).
//
// node-gyp is given this Node's own headers (`npm_config_nodedir`) when they are installed beside
// it, so that it does not download them. The addon is N-API: one build serves every Node line.
// With `--check` nothing is built: it only says whether the built addon loads.
import { existsSync, realpathSync } from "node:fs"
import { dirname, join, resolve } from "node:path"
import { run, tail } from "./release/run.mjs"

const root = resolve(import.meta.dirname, "..")
const addonDir = realpathSync(join(root, "node_modules", "kerberos"))
const nodeGyp = join(root, "node_modules", "node-gyp", "bin", "node-gyp.js")

// Loaded in a child process: a broken build must not take this script down with it.
const loads = () =>
  run(process.execPath, ["-e", `const k = require(${JSON.stringify(addonDir)}); console.log(k.version + " " + typeof k.initializeClient)`], { timeoutMs: 30_000 })

const loaded = await loads()
if (loaded.code === 0) {
  console.log(`kerberos-addon: kerberos ${loaded.stdout.trim().split(" ")[0]} loads (${addonDir})`)
  process.exit(0)
}
if (process.argv.includes("--check")) {
  console.error(`kerberos-addon: the kerberos addon does not load; build it with: pnpm kerberos-addon\n${tail(loaded, 5)}`)
  process.exit(1)
}

const prefix = resolve(dirname(process.execPath), "..")
const localHeaders = existsSync(join(prefix, "include", "node", "node_api.h"))
const env = localHeaders ? { ...process.env, npm_config_nodedir: prefix } : process.env
console.log(`kerberos-addon: building ${addonDir} with node-gyp (headers: ${localHeaders ? join(prefix, "include", "node") : "downloaded by node-gyp"})`)
const started = performance.now()
const built = await run(process.execPath, [nodeGyp, "rebuild"], { cwd: addonDir, env, timeoutMs: 600_000 })
const seconds = ((performance.now() - started) / 1000).toFixed(1)
if (built.code !== 0) {
  console.error(
    `kerberos-addon: the build failed after ${seconds} s. It needs libkrb5-dev, g++, make and python3 ` +
      `(as root: bash scripts/system-deps.sh)\n${tail(built, 25)}`
  )
  process.exit(1)
}
const after = await loads()
if (after.code !== 0) {
  console.error(`kerberos-addon: built in ${seconds} s, but it does not load:\n${tail(after, 10)}`)
  process.exit(1)
}
console.log(`kerberos-addon: built in ${seconds} s; kerberos ${after.stdout.trim().split(" ")[0]} loads`)
