-- Record a failed handling attempt; after the last allowed attempt, move the event to the dead-letter stream.
--
-- KEYS[1] the events stream, KEYS[2] the dead-letter stream, KEYS[3] the delivery's history hash
-- ARGV[1] consumer group, ARGV[2] stream entry id, ARGV[3] max attempts, ARGV[4] now (epoch ms),
-- ARGV[5] short failure reason (never a payload or a secret), ARGV[6] history TTL (s), ARGV[7] dead-letter cap
-- Returns {0, attempts} to retry later, {1, attempts} when dead-lettered, {2, 0} when the entry is no longer
-- pending (another instance finished it): nothing is recorded then.
--
-- Atomicity: moving to the dead letters is XADD there + XACK/XDEL here in one script, so an event is always in
-- exactly one of the two streams: a crash between the steps cannot drop it or leave it in both. All reads come
-- first; the first write (HINCRBY) is the only one Redis may refuse for OOM, and then nothing at all is written.
-- The attempt counter lives in Redis, not in the instance, so attempts made by an instance that died count too.
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then
  return {2, 0}
end
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
local fresh = redis.call('EXISTS', KEYS[3]) == 0
local attempts = redis.call('HINCRBY', KEYS[3], 'cycle_attempts', 1)
redis.call('HINCRBY', KEYS[3], 'attempts', 1)
redis.call('HSET', KEYS[3], 'last_error', ARGV[5], 'last_attempt_at', ARGV[4])
if fresh then
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
if attempts < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[3], 'outcome', 'retrying')
  return {0, attempts}
end

local fields = {'source_id', ARGV[2], 'attempts', tostring(attempts), 'error', ARGV[5], 'failed_at', ARGV[4]}
if #entry == 1 then
  local f = entry[1][2]
  for i = 1, #f do
    fields[#fields + 1] = f[i]
  end
end
local dead = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], '*', unpack(fields))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('HSET', KEYS[3], 'outcome', 'dead_lettered', 'dead_letter_id', dead)
return {1, attempts}
