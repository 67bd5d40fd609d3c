// Prints vitest's totals as one plain closing line ("vitest: N passed, N failed"), the form CI reads.
import { readFileSync } from "node:fs"

const results = JSON.parse(readFileSync(".vitest/results.json", "utf8"))
const skipped = results.numPendingTests + results.numTodoTests
console.log(`vitest: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`)
process.exit(results.numFailedTests === 0 && results.numTotalTests > 0 ? 0 : 1)
