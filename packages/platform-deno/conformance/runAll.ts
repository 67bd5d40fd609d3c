/**
 * A runner for runtimes without a test runner we use (Bun): runs the cases one after the other and
 * ends with the line `N passed, N failed`.
 */
import { Cause, Effect, Exit } from "effect"
import { type Case, caseEffect } from "./cases.js"
import type { Platform } from "./Platform.js"

export interface Summary {
  readonly passed: number
  readonly failed: number
}

export const runAll = async (platform: Platform, cases: ReadonlyArray<Case>): Promise<Summary> => {
  let passed = 0
  let failed = 0
  const started = performance.now()
  for (const testCase of cases) {
    const begin = performance.now()
    const exit = await Effect.runPromiseExit(caseEffect(platform, testCase))
    const took = `${Math.round(performance.now() - begin)} ms`
    if (Exit.isSuccess(exit)) {
      passed++
      console.log(`ok   ${testCase.name} [${platform.runtime}] (${took})`)
    } else {
      failed++
      console.log(`FAIL ${testCase.name} [${platform.runtime}] (${took})\n${Cause.pretty(exit.cause)}`)
    }
  }
  console.log(
    `\n${cases.length} conformance cases on ${platform.runtime} in ${Math.round(performance.now() - started)} ms`
  )
  console.log(`${passed} passed, ${failed} failed`)
  return { passed, failed }
}
