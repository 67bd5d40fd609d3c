/** What the tests' private servers (squid.ts, sambaAd.ts) share: a free TCP port on 127.0.0.1. */
import { Effect } from "effect"
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
