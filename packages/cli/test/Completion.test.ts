/**
 * `vedauth completion bash|zsh|fish`: the scripts, generated from the tables the parser and the help
 * are built from, loaded by the real shells (scripts/system-deps.sh installs zsh and fish) and driven
 * as a user's Tab would: the commands, a command's options, the values of --grant, --mechanism and
 * --profile (from the stored profiles, through `vedauth __profiles`).
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { commands, options } from "../src/internal/spec.js"
import { bin, collect, runCli } from "./support/runCli.js"

const shown = commands.filter((command) => command.hidden !== true).map((command) => command.name)
const flagsOf = (
  name: string
) => [...commands.find((command) => command.name === name)!.options.map((key) => `--${options[key].flag}`), "--help"]

// A folder with a `vedauth` on PATH (the scripts call it for profile names), and a HOME with two profiles.
const setup = Effect.gen(function*() {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* fs.makeTempDirectoryScoped({ prefix: "vedauth-cli-completion-" })
  yield* fs.makeDirectory(`${dir}/bin`)
  yield* fs.writeFileString(`${dir}/bin/vedauth`, `#!/bin/sh\nexec '${process.execPath}' '${bin}' "$@"\n`, {
    mode: 0o755
  })
  yield* fs.makeDirectory(`${dir}/home/.local/state/vedauth`, { recursive: true })
  const profiles = {
    format: "vedauth-cli-profiles",
    version: 1,
    current: "work",
    profiles: { work: { url: "https://127.0.0.1:1" }, lab: {} }
  }
  yield* fs.writeFileString(`${dir}/home/.local/state/vedauth/profiles.json`, JSON.stringify(profiles), { mode: 0o600 })
  const env = { PATH: `${dir}/bin:${process.env["PATH"] ?? ""}`, HOME: `${dir}/home` }
  const shell = (name: string, script: string) => collect(name, ["-c", script], { env, cwd: dir })
  return { env, shell }
})

// Sources the bash script and prints COMPREPLY, one word a line, for the words typed so far.
const bashCompletes = (words: ReadonlyArray<string>) =>
  "source <(vedauth completion bash) && " +
  `COMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")}) && COMP_CWORD=${
    words.length - 1
  } && _vedauth && printf '%s\\n' "\${COMPREPLY[@]}"`

const lines = (text: string) => text.split("\n").filter((line) => line !== "").sort()

describe("vedauth completion bash", () => {
  it.scopedLive("loads in bash and completes commands, a command's options, and the values of --grant, --mechanism, --profile", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const loaded = yield* shell("bash", "source <(vedauth completion bash) && complete -p vedauth")
      assert.strictEqual(loaded.stdout, "complete -o default -F _vedauth vedauth\n", loaded.stderr)
      const drive = (words: ReadonlyArray<string>) =>
        Effect.map(shell("bash", bashCompletes(words)), (output) => lines(output.stdout))
      assert.deepStrictEqual(yield* drive(["vedauth", ""]), [...shown, "--help", "--version"].sort())
      assert.notInclude(yield* drive(["vedauth", "__"]), "__profiles")
      assert.deepStrictEqual(yield* drive(["vedauth", "run", "--"]), [...flagsOf("run"), "--"].sort())
      assert.deepStrictEqual(yield* drive(["vedauth", "status", ""]), flagsOf("status").sort())
      assert.deepStrictEqual(yield* drive(["vedauth", "login", "--grant", ""]), [
        "certificate",
        "device",
        "integrated",
        "jwt",
        "password"
      ])
      assert.deepStrictEqual(yield* drive(["vedauth", "token", "--grant", "de"]), ["device"])
      assert.deepStrictEqual(yield* drive(["vedauth", "token", "--mechanism", ""]), ["kerberos", "negotiate", "ntlm"])
      assert.deepStrictEqual(yield* drive(["vedauth", "token", "--profile", ""]), ["lab", "work"])
      assert.deepStrictEqual(yield* drive(["vedauth", "completion", ""]), ["--help", "bash", "fish", "zsh"])
      // After `run ... --`: the names of commands.
      assert.include(yield* drive(["vedauth", "run", "--", "bas"]), "bash")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("`vedauth __profiles` prints the profile names, and is in neither the help nor the command list", () =>
    Effect.gen(function*() {
      const { env } = yield* setup
      const names = yield* runCli(["__profiles"], { env: { HOME: env.HOME } })
      assert.strictEqual(names.code, 0, names.stderr)
      assert.deepStrictEqual(lines(names.stdout), ["lab", "work"])
      assert.notInclude((yield* runCli(["help"])).stdout, "__profiles")
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})

describe("vedauth completion zsh and fish", () => {
  it.scopedLive("zsh: the script parses, and sourced after compinit it registers _vedauth with every command and option", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const script = (yield* runCli(["completion", "zsh"])).stdout
      const loaded = yield* shell(
        "zsh",
        "autoload -U compinit && compinit -u -D && source <(vedauth completion zsh) && print -r -- $_comps[vedauth]"
      )
      assert.strictEqual(loaded.stdout, "_vedauth\n", loaded.stderr)
      for (const name of shown) assert.include(script, `    '${name}:`)
      for (const [key, spec] of Object.entries(options)) {
        if (key !== "help") assert.include(script, `'--${spec.flag}[`, spec.flag)
      }
      assert.include(script, ":GRANT:(integrated password certificate jwt device)")
      assert.include(script, ":NAME:_vedauth_profiles")
    }).pipe(Effect.provide(NodeFileSystem.layer)))

  it.scopedLive("fish: complete -C gives commands, options and --grant, --profile values", () =>
    Effect.gen(function*() {
      const { shell } = yield* setup
      const drive = (line: string) =>
        Effect.map(
          shell("fish", `vedauth completion fish | source; complete -C '${line}'`),
          (output) => lines(output.stdout).map((row) => row.split("\t")[0]!)
        )
      assert.deepStrictEqual(yield* drive("vedauth "), [...shown].sort())
      assert.includeMembers(yield* drive("vedauth logout --"), flagsOf("logout"))
      assert.deepStrictEqual(yield* drive("vedauth login --grant "), [
        "certificate",
        "device",
        "integrated",
        "jwt",
        "password"
      ])
      assert.deepStrictEqual(yield* drive("vedauth token --profile "), ["lab", "work"])
    }).pipe(Effect.provide(NodeFileSystem.layer)))
})
