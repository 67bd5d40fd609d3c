/**
 * The simulator in a child process of its own, so that the client's CPU time is the client's alone.
 * Answers `stats` and `close` over IPC; says its URL when it listens.
 */
import * as Simulator from "@vedauth/testing/Simulator"
import { Effect } from "effect"

const run = async () => {
  const served = await Simulator.start({ protocol: "http", host: "127.0.0.1" })
  process.on("message", (message: { readonly id: number; readonly op: "stats" | "close" }) => {
    if (message.op === "close") {
      void served.close().then(() => process.exit(0))
      return
    }
    void Effect.runPromise(served.simulator.stats).then((stats) => process.send!({ id: message.id, stats }))
  })
  process.send!({ id: 0, url: served.url })
}

void run()
