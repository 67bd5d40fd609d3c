import { DateTime } from "effect"

// The range a JavaScript Date can hold: ±8.64e15 ms around the epoch.
const maxMillis = 8.64e15

/**
 * An instant from epoch milliseconds that came off the wire. A JSON number can lie far outside what
 * a date can hold (`"expires": 1e300`); it is clamped to the representable range instead of throwing,
 * so that a hostile or broken server cannot turn a response into a defect.
 *
 * @internal
 */
export const clampedInstant = (millis: number): DateTime.Utc =>
  DateTime.unsafeMake(Number.isNaN(millis) ? 0 : Math.max(-maxMillis, Math.min(maxMillis, millis)))
