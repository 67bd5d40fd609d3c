/**
 * `bytes` random bytes as lowercase hex, from the platform's CSPRNG (crypto.getRandomValues), never a predictable generator: lock
 * owners and temp file names must not collide between processes.
 *
 * @internal
 */
export const randomHex = (bytes: number): string =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("")
