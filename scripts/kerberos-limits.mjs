// `node scripts/kerberos-limits.mjs [--mit]`: the figures of docs/security.md for issue #21's
// Kerberos findings, measured on this machine: krb5.conf parse times for the inputs that made the
// former parser crawl (R9), the worst string-to-key a KDC can ask for (R6, at vedauth's cap; with
// --mit also at MIT's limit, about 20 s), whether the event loop stays free meanwhile, and a login
// against a KDC that asks for the cap twice with two salts.
import { runBundled } from "./bundled.mjs"

process.exitCode = await runBundled({
  entries: ["scripts/kerberos-limits/main.ts"],
  prefix: "vedauth-kerberos-limits-",
  args: process.argv.slice(2)
})
