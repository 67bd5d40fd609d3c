// A throwaway redis-server (Debian's, installed by scripts/system-deps.sh) on a free loopback port,
// for checking that the installed CLI's Redis store (a chunk of its own, with ioredis) works.
import { spawn } from "node:child_process"
import { createServer } from "node:net"
import { run } from "./run.mjs"

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

/** Starts redis-server in `dir`; resolves once it answers PING, with its URL and a `stop`. */
export const startRedis = async (dir) => {
  const port = await freePort()
  const child = spawn("redis-server", ["--bind", "127.0.0.1", "--port", String(port), "--dir", dir, "--save", "", "--appendonly", "no"], {
    stdio: "ignore"
  })
  const exited = new Promise((resolve) => child.once("exit", resolve))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    await exited
  }
  for (let attempt = 0; attempt < 100; attempt++) {
    const ping = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "PING"], { timeoutMs: 5_000 })
    if (ping.stdout.trim() === "PONG") return { url: `redis://127.0.0.1:${port}/0`, stop }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  await stop()
  throw new Error(`redis-server did not answer on 127.0.0.1:${port}`)
}
