// A fresh project outside the workspace that installs the tarballs with npm, as a user would, and
// the simulator it runs the documented programs against (HTTPS, trusted through VEDAUTH_CA_FILE).
import { spawn } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { run, tail } from "./run.mjs"
import * as programs from "./programs.mjs"

/**
 * The peers a user installs beside vedauth (the Effect 3 line), and the types a Node consumer has
 * (@types/ws: @effect/platform-node's declarations import `ws`, so skipLibCheck: false needs it).
 */
export const peers = ["effect@3.22.4", "@effect/platform@0.97.2", "@effect/platform-node@0.108.2", "@types/node@22.20.7", "@types/ws@8.18.2"]

/** Writes the consumer project into `dir` and installs the library tarballs and the peers with npm. */
export const setUp = async (root, dir, libraries) => {
  const { readme, gettingStarted } = programs.documentedPrograms(root)
  const files = {
    "package.json": JSON.stringify({ name: "vedauth-consumer", private: true, type: "module" }, null, 2),
    "main.mjs": readme,
    "main.ts": readme,
    "getting-started.mjs": gettingStarted,
    "getting-started.ts": gettingStarted,
    "entry-points.ts": programs.entryPointsModule(libraries),
    "tsconfig.json": JSON.stringify(programs.consumerTsconfig, null, 2),
    "deno-main.mjs": programs.denoProgram,
    "server.mjs": programs.simulatorServer
  }
  mkdirSync(dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  const install = await run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error", ...libraries.map((p) => p.file), ...peers], { cwd: dir })
  if (install.code !== 0) throw new Error(`npm install failed:\n${tail(install)}`)
}

/** Starts server.mjs; resolves with its URL and a stop function once it printed the URL. */
export const startSimulator = (dir, node, caFile) =>
  new Promise((resolve, reject) => {
    const child = spawn(node, ["server.mjs", caFile], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] })
    let output = ""
    child.stdin.on("error", () => {}) // a server that already ended closed its input
    const fail = (why) => {
      child.kill("SIGKILL")
      reject(new Error(`the simulator did not start: ${why}\n${output}`))
    }
    const timer = setTimeout(() => fail("no URL within 60 s"), 60_000)
    child.stderr.on("data", (chunk) => (output += chunk))
    child.stdout.on("data", (chunk) => {
      output += chunk
      const url = /^https:\/\/\S+/m.exec(output)?.[0]
      if (url !== undefined) {
        clearTimeout(timer)
        const stop = () =>
          new Promise((done) => {
            child.on("close", done)
            child.stdin.end()
          })
        resolve({ url, stop })
      }
    })
    child.on("close", (code) => {
      clearTimeout(timer)
      fail(`exited with ${code}`)
    })
  })

/** The environment of a documented program: the simulator's user, its CA, a store and HOME of its own. */
export const programEnv = (dir, url, caFile, name) => {
  const home = join(dir, "homes", name)
  mkdirSync(home, { recursive: true })
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_STATE_HOME: join(home, "state"),
    NO_COLOR: "1",
    VEDAUTH_URL: url,
    VEDAUTH_CLIENT_ID: "vedauth-demo",
    VEDAUTH_SCOPE: "certificate:manage",
    VEDAUTH_USERNAME: "CORP\\alice",
    // The simulator's documented demo password (Simulator.defaultCredentials), not a real secret.
    VEDAUTH_PASSWORD: "Passw0rd!",
    VEDAUTH_CA_FILE: caFile,
    VEDAUTH_TOKEN_STORE: join(home, "tokens.json")
  }
}
