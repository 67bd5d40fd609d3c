/**
 * Kerberos by hand (part 1 of issue #14; `VedAuth.authorize` will do this itself in part 2): a
 * service ticket for the TPP server from the credential cache `kinit` wrote (or a keytab), the
 * SPNEGO token for `Authorization: Negotiate`, and the check of the server's answer.
 *
 *   KRB5CCNAME=FILE:/tmp/krb5cc_1000 node kerberos.js https://tpp.example.com/vedauth/authorize/integrated
 */
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import * as Kerberos from "@vedauth/core/Kerberos"
import * as NodeKdcTransport from "@vedauth/platform-node/NodeKdcTransport"
import * as NodeTokenStoreFiles from "@vedauth/platform-node/NodeTokenStoreFiles"
import { Config, Console, Effect, Layer } from "effect"

const program = Effect.gen(function*() {
  const url = process.argv[2] ?? "https://tpp.example.com/vedauth/authorize/integrated"
  const cache = yield* Config.string("KRB5CCNAME")
  // HTTP/<host of the URL>: an IP address is refused here, since no KDC issues tickets for one.
  const spn = yield* Kerberos.spnForUrl(url)
  // From the cache while valid (no KDC round trip), else with the cached TGT (one), written back when
  // the cache's folder is yours alone. The cache is read through NodeTokenStoreFiles, the hardened
  // reader: one another user owns, or a FIFO, is a KerberosError, never a login as them or a hang.
  const ticket = yield* Kerberos.getTicket({ keySource: { _tag: "CacheOnly" }, spn, cache })
  yield* Console.log(`${ticket.client} has a ticket for ${ticket.server} until ${ticket.expiresAt.toISOString()}`)
  // Over TLS, pass the connection's tls-server-end-point bindings as `channelBindings`.
  const initiator = yield* Kerberos.initiate(ticket)
  yield* Console.log(`Authorization: Negotiate ${btoa(String.fromCharCode(...initiator.token))}`)
  // With the server's `WWW-Authenticate: Negotiate <token>`: `yield* initiator.complete(serverToken)`,
  // which fails with KRB_AP_ERR_MUT_FAIL when the token is missing or was not made with the service key.
}).pipe(
  Effect.catchTags({
    AuthenticationFailed: (e) => Console.error(`the KDC refused the credentials: ${e.message}`),
    // `name` is the protocol's error name (KDC_ERR_...); the message ends with the hint, when there is one.
    KerberosError: (e) => Console.error(`${e.reason}: ${e.detail}`),
    TransportError: (e) => Console.error(`no KDC answered: ${e.message}`)
  })
)

program.pipe(
  Effect.provide(Layer.mergeAll(NodeKdcTransport.layer(), NodeTokenStoreFiles.layer, NodeContext.layer)),
  NodeRuntime.runMain
)
