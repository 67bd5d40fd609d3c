import { Command, Options } from "@effect/cli"
import { Simulator } from "@vedauth/testing"
import { Console, Effect, Option } from "effect"

/** @internal */
export const simulate = Command.make(
  "simulate",
  {
    port: Options.integer("port").pipe(Options.withDefault(0), Options.withDescription("Port on 127.0.0.1 (default: a free one)")),
    tls: Options.boolean("tls").pipe(Options.withDescription("Serve HTTPS with a certificate from a fresh throwaway CA")),
    certOut: Options.optional(Options.text("cert-out")).pipe(
      Options.withDescription("With --tls: write the CA certificate PEM here, for --ca-file")
    )
  },
  ({ certOut, port, tls }) =>
    Effect.gen(function*() {
      const served = yield* Simulator.serve({
        protocol: tls ? "https" : "http",
        port,
        ...(tls && Option.isSome(certOut) ? { caPemPath: certOut.value } : {})
      })
      // The URL alone on the first line, so scripts can read it.
      yield* Console.log(served.url)
      yield* Console.error(
        [
          `vedauth simulator listening on ${served.url} (Ctrl-C to stop)`,
          `  user CORP\\alice (password: see docs/cli.md), client id ${Simulator.defaultClientId}`,
          `  allowed scope ${Simulator.defaultScope}`,
          ...(tls && Option.isSome(certOut) ? [`  certificate written to ${certOut.value}`] : [])
        ].join("\n")
      )
      return yield* Effect.never
    }).pipe(Effect.scoped)
).pipe(Command.withDescription("Run the TPP simulator in the foreground"))
