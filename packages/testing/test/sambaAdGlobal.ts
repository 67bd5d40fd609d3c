/**
 * The testing project's global setup: an empty folder for this run's provisioned Samba AD domain
 * (sambaAd.ts provisions it there the first time a test file asks, under a lock, and every later file
 * of the run copies it), removed when the run ends. Creating the folder costs nothing: a run with no
 * Samba tests never provisions.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    /** Where sambaAd.ts keeps the domain it provisioned for this run. */
    sambaAdCache: string
  }
}

export default function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), "vedauth-samba-ad-run-"))
  project.provide("sambaAdCache", dir)
  return () => rmSync(dir, { recursive: true, force: true })
}
