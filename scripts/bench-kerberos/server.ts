/**
 * The simulators of `pnpm bench:kerberos` in a child process of their own, so that the client's
 * CPU time is the client's alone: one over HTTP, one over HTTPS (channel bindings checked when sent:
 * ours sends them, curl 7.88 does not), each with its realm and KDC. In front of each KDC a TCP
 * relay counts connections: RFC 4120 over TCP is one request per connection, so that is the
 * number of KDC round trips of any client, ours or MIT's. Answers `counts` and `close` over IPC;
 * says each server's URL, KDC (the relay), CA and service keytab when they listen.
 */
import { Kerberos } from "@vedauth/core"
import * as Simulator from "@vedauth/testing/Simulator"
import { Effect, Encoding } from "effect"
import * as Net from "node:net"

const relay = (target: string) =>
  new Promise<{ readonly address: string; readonly count: () => number; readonly close: () => void }>((resolve) => {
    const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))]
    let connections = 0
    const server = Net.createServer((client) => {
      connections++
      const upstream = Net.connect(port, host)
      client.pipe(upstream).pipe(client)
      const drop = () => (client.destroy(), upstream.destroy())
      client.on("error", drop)
      upstream.on("error", drop)
    })
    server.listen(0, "127.0.0.1", () => {
      const address = server.address() as Net.AddressInfo
      resolve({ address: `127.0.0.1:${address.port}`, count: () => connections, close: () => server.close() })
    })
  })

const run = async () => {
  const servers = await Promise.all((["http", "https"] as const).map(async (protocol) => {
    const served = await Simulator.start({ protocol, host: "127.0.0.1", kerberos: {}, channelBindings: "when-present" })
    const kdc = await relay(served.kdc!)
    return { protocol, served, kdc }
  }))
  process.on("message", (message: { readonly id: number; readonly op: "counts" | "close" }) => {
    if (message.op === "close") {
      servers.forEach((s) => s.kdc.close())
      void Promise.all(servers.map((s) => s.served.close())).then(() => process.exit(0))
      return
    }
    void Promise.all(servers.map(async ({ kdc, protocol, served }) => {
      const stats = await Effect.runPromise(served.simulator.stats)
      return [protocol, { http: stats.requests, kdc: kdc.count() }] as const
    })).then((counts) => process.send!({ id: message.id, counts: Object.fromEntries(counts) }))
  })
  process.send!({
    id: 0,
    servers: Object.fromEntries(servers.map(({ kdc, protocol, served }) => [protocol, {
      url: served.url,
      kdc: kdc.address,
      caPem: served.caPem,
      // The service's keys (random, this run only), for the step figures' acceptor in the client process.
      serviceKeytab: Encoding.encodeBase64(Kerberos.keytabToBytes(served.simulator.kerberos!.serviceKeytab))
    }]))
  })
}

void run()
