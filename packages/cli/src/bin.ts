#!/usr/bin/env node
/**
 * The `vedauth` executable. `token`, which scripts call before every request, takes a lean path;
 * every other command goes through the full CLI. Both are loaded on demand, so neither pays for
 * the other.
 *
 * @since 0.1.0
 */
const args = process.argv.slice(2)

// The lean path's strict parser hands anything it does not know (a `--password` flag included) to
// the full CLI; `--password-stdin` stays on the lean path.
if (args[0] === "token") {
  void import("./internal/fastToken.js").then((fast) => fast.main(args))
} else {
  void import("./internal/fullMain.js").then((full) => full.main())
}
