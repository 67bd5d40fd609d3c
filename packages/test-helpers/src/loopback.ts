/** What the tests' private servers (squid.ts, sambaAd.ts, sssdKcm.ts) share: a free TCP port on 127.0.0.1, and stopping one. */
import { Effect } from "effect"
import type { ChildProcess } from "node:child_process"
import { createServer } from "node:net"

/** A port nothing listens on now (the OS's pick, closed again at once). */
export const freePort = Effect.async<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited (at once if it never started). */
export const stopProcess = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return resolve()
    const kill = setTimeout(() => child.kill("SIGKILL"), 5_000)
    child.once("exit", () => (clearTimeout(kill), resolve()))
    child.kill("SIGTERM")
  })
