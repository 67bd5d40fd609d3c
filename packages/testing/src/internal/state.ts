import type { DeviceRecord } from "./device.js"
/**
 * The simulator's mutable state. Every read-modify-write happens inside a single `Effect.sync`
 * block, which JavaScript runs to completion, so no two requests can interleave inside one update
 * (no lock needed, and benchmarks are not slowed down by one).
 */

/** @internal */
export interface GrantRecord {
  readonly id: number
  readonly clientId: string
  readonly user: string
  readonly identity: string
  readonly scope: string
  readonly grantIssuedAt: number
  /** Epoch millis of the grant's end (`refresh_until`). */
  readonly grantEnd: number
  readonly refreshable: boolean
  accessToken: string
  refreshToken: string | undefined
  accessIssuedAt: number
  accessExpires: number
  refreshCount: number
}

/** @internal */
export interface Counters {
  requests: number
  connections: number
  authorizeIntegrated: number
  authorizeOauth: number
  authorizeCertificate: number
  authorizeJwt: number
  authorizeDevice: number
  devicePoll: number
  refresh: number
  verify: number
  revoke: number
  resources: number
  handshakesCompleted: number
  handshakesRejected: number
  rejected4xx: number
  injectedFaults: number
}

/** @internal */
export const emptyCounters = (): Counters => ({
  requests: 0,
  connections: 0,
  authorizeIntegrated: 0,
  authorizeOauth: 0,
  authorizeCertificate: 0,
  authorizeJwt: 0,
  authorizeDevice: 0,
  devicePoll: 0,
  refresh: 0,
  verify: 0,
  revoke: 0,
  resources: 0,
  handshakesCompleted: 0,
  handshakesRejected: 0,
  rejected4xx: 0,
  injectedFaults: 0
})

/** How often, at most, a new grant triggers a sweep of the ended ones (simulated time). */
const sweepEvery = 1000

/**
 * A grant that can no longer be used for anything: its end passed, or its access token expired
 * and it has no refresh token. Dropping it changes no answer (an unknown token and an ended one
 * get the same replies), it only frees the memory.
 */
const ended = (grant: GrantRecord, now: number): boolean =>
  now >= grant.grantEnd || (now >= grant.accessExpires && grant.refreshToken === undefined)

/** The most device codes kept at once: a flood of authorize/device cannot grow memory. */
const maxDevices = 1000

/** @internal */
export class State {
  /** At most this many grants are kept; past it the oldest is dropped (a flood cannot grow memory). */
  constructor(readonly maxGrants: number = 20_000) {}
  nextGrantId = 1
  private nextSweep = 0
  nextConnectionId = 1
  readonly grants = new Map<number, GrantRecord>()
  readonly byAccess = new Map<string, number>()
  readonly byRefresh = new Map<string, number>()
  counters: Counters = emptyCounters()
  /** Rejected AUTHENTICATEs by reason (core's `Ntlm.Rejection`, or "malformed", "no-challenge"). */
  rejections: Record<string, number> = {}
  /** Requests each completed handshake took, most recent last (bounded). */
  roundTrips: Array<number> = []

  /**
   * Keeps a grant (a new one, or one re-added after its tokens rotated, which moves it to the back
   * of the eviction order). Ended grants are swept at most once a second of simulated time; past
   * `maxGrants` the least recently issued is dropped, as a server would expire it.
   */
  addGrant(grant: GrantRecord, now: number): void {
    if (now >= this.nextSweep) {
      this.nextSweep = now + sweepEvery
      for (const kept of this.grants.values()) if (ended(kept, now)) this.removeGrant(kept)
    }
    this.grants.set(grant.id, grant)
    this.byAccess.set(grant.accessToken, grant.id)
    if (grant.refreshToken !== undefined) this.byRefresh.set(grant.refreshToken, grant.id)
    for (const oldest of this.grants.values()) {
      if (this.grants.size <= this.maxGrants) break
      this.removeGrant(oldest)
    }
  }

  /** Device codes being polled, by device code. */
  readonly devices = new Map<string, DeviceRecord>()

  addDevice(device: DeviceRecord, now: number): void {
    for (const [code, kept] of this.devices) if (now >= kept.expires) this.devices.delete(code)
    this.devices.set(device.deviceCode, device)
    for (const code of this.devices.keys()) {
      if (this.devices.size <= maxDevices) break
      this.devices.delete(code)
    }
  }

  removeGrant(grant: GrantRecord): void {
    this.grants.delete(grant.id)
    this.byAccess.delete(grant.accessToken)
    if (grant.refreshToken !== undefined) this.byRefresh.delete(grant.refreshToken)
  }

  recordRoundTrips(count: number): void {
    this.roundTrips.push(count)
    if (this.roundTrips.length > 1000) this.roundTrips.splice(0, this.roundTrips.length - 1000)
  }
}
