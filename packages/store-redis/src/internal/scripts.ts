/**
 * The Lua scripts the store runs on the server: each is one atomic step, so a compare-and-set or a
 * lock release can never interleave with another client's write.
 *
 * @internal
 */

/**
 * Compare-and-set on one record (a hash with fields `v`, the version, and `g`, the stored grant).
 * KEYS[1] the record, KEYS[2] the store's revision counter (versions are never reused, not even
 * after a removal). ARGV[1] the expected version ("" = no record), ARGV[2] the next payload
 * ("" = remove), ARGV[3] the absolute expiry in Unix milliseconds, ARGV[4] the channel to announce
 * the change on (`version key`, version "" after a removal), ARGV[5] the key's text (for `list`),
 * ARGV[6] the largest payload to send back. Answers `{1, version}` when written (version "" after a
 * removal), or `{0, version, payload}` with the record as it now stands ("" when there is none), or
 * `{0, version, '', size}` when that payload is larger than ARGV[6] (it is not sent).
 *
 * @internal
 */
export const compareAndSet = `
local version = redis.call('HGET', KEYS[1], 'v') or ''
if version ~= ARGV[1] then
  local size = redis.call('HSTRLEN', KEYS[1], 'g')
  if size > tonumber(ARGV[6]) then
    return {0, version, '', size}
  end
  return {0, version, redis.call('HGET', KEYS[1], 'g') or ''}
end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[4], ' ' .. KEYS[1])
  return {1, ''}
end
local next = tostring(redis.call('INCR', KEYS[2]))
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'v', next, 'g', ARGV[2], 'k', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
redis.call('PUBLISH', ARGV[4], next .. ' ' .. KEYS[1])
return {1, next}
`

/**
 * Renews the lock KEYS[1] if ARGV[1] (the owner's token) still holds it: its value becomes ARGV[2]
 * (the owner's token, a colon, the renewal's time: every renewal changes the text, so a waiter can
 * tell a live holder from a lock left without expiry) for ARGV[3] more milliseconds.
 *
 * @internal
 */
export const renewLock = `
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
`

/**
 * Deletes the lock KEYS[1] only if ARGV[1] (the owner's token) still holds it: a holder whose lock
 * expired never frees the lock someone else has taken since.
 *
 * @internal
 */
export const releaseLock = `
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ':' then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/**
 * Deletes the lock KEYS[1] only if its value is still exactly ARGV[1]: the stale lock a waiter
 * watched unchanged (left without an expiry, or by a holder that stopped renewing).
 *
 * @internal
 */
export const breakLock = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`

/**
 * Reads the record KEYS[1]: `{version, payload, key text}`, or `{version, '', key text, size}` when
 * the payload is larger than ARGV[1] bytes (a hostile or broken record is not sent whole).
 *
 * @internal
 */
export const readRecord = `
local size = redis.call('HSTRLEN', KEYS[1], 'g')
local fields = redis.call('HMGET', KEYS[1], 'v', 'k')
if size > tonumber(ARGV[1]) then
  return {fields[1] or '', '', fields[2] or '', size}
end
return {fields[1] or '', redis.call('HGET', KEYS[1], 'g') or '', fields[2] or ''}
`
