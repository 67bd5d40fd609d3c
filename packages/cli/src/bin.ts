#!/usr/bin/env node
/**
 * The `vedauth` executable. `token`, which scripts call before every request, takes a lean path;
 * every other command goes through the full CLI. Both are loaded on demand, so neither pays for
 * the other.
 *
 * @since 0.1.0
 */
const args = process.argv.slice(2)

if (args[0] === "token" && !args.some((arg) => arg.startsWith("--password"))) {
  void import("./internal/fastToken.js").then((fast) => fast.main(args))
} else {
  void import("./internal/fullMain.js").then((full) => full.main())
}
