/** Starts the impacket NTLM server (ntlm_server.py) on 127.0.0.1 for a test scope, and reads its log. */
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Readline from "node:readline"

const SCRIPT = Path.join(import.meta.dirname, "ntlm_server.py")

export interface ServerEvent {
  readonly event: string
  readonly connection: number
  readonly requests: number
  readonly user?: string
  readonly result?: string
  readonly scheme?: string
  readonly negotiate_body_length?: number
}

export interface RunningServer {
  readonly url: string
  readonly events: ReadonlyArray<ServerEvent>
  readonly output: () => string
  /**
   * The server's `name` events once there are `count` of them. The server logs an event on its
   * stdout around the time it answers, so the pipe may deliver the log line after the client has its
   * response: wait for it (bounded, so a missing event fails the test instead of hanging it).
   */
  readonly eventsNamed: (name: string, count: number) => Effect.Effect<ReadonlyArray<ServerEvent>, Error>
}

export const startServer = (flags: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.async<{ child: ChildProcess.ChildProcess; server: RunningServer }, Error>((resume) => {
      const child = ChildProcess.spawn("/usr/bin/python3", [SCRIPT, ...flags], { stdio: ["ignore", "pipe", "pipe"] })
      const events: Array<ServerEvent> = []
      const listeners = new Set<() => void>()
      const named = (name: string) => events.filter((event) => event.event === name)
      const eventsNamed = (name: string, count: number) =>
        Effect.async<ReadonlyArray<ServerEvent>>((done) => {
          const check = () => {
            if (named(name).length < count) return
            listeners.delete(check)
            done(Effect.succeed(named(name)))
          }
          listeners.add(check)
          check()
          return Effect.sync(() => listeners.delete(check))
        }).pipe(
          Effect.timeoutFail({
            duration: "10 seconds",
            onTimeout: () =>
              new Error(`the server logged ${named(name).length} '${name}' events, not ${count}: ${text}`)
          })
        )
      let text = ""
      let started = false
      child.stderr.on("data", (chunk: Buffer) => (text += chunk.toString()))
      Readline.createInterface({ input: child.stdout }).on("line", (line) => {
        text += line + "\n"
        const parsed = JSON.parse(line) as { port?: number } & ServerEvent
        if (!started && parsed.port !== undefined) {
          started = true
          const scheme = flags.includes("--cert") ? "https" : "http"
          resume(Effect.succeed({
            child,
            server: {
              url: `${scheme}://127.0.0.1:${parsed.port}`,
              events,
              output: () => text,
              eventsNamed
            }
          }))
        } else {
          events.push(parsed)
          for (const listener of [...listeners]) listener()
        }
      })
      child.on("exit", (code) => {
        if (!started) resume(Effect.fail(new Error(`ntlm_server.py exited with ${code}: ${text}`)))
      })
    }),
    ({ child }) => Effect.sync(() => child.kill())
  ).pipe(Effect.map(({ server }) => server))

/** A throwaway self-signed certificate for 127.0.0.1, made with the openssl CLI. */
export const makeCertificate = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "vedauth-interop-"))
    const cert = Path.join(dir, "cert.pem")
    const key = Path.join(dir, "key.pem")
    ChildProcess.execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-sha384",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1"
    ], { stdio: "ignore" })
    return { dir, cert, key, pem: Fs.readFileSync(cert, "utf8") }
  }),
  ({ dir }) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)
