-- Record a failed attempt (RETRY) or a refusal (DEAD) of one entry by one consumer group; after the last allowed
-- attempt, or at once for DEAD, move the entry to the group's dead-letter stream.
--
-- KEYS[1] the stream, KEYS[2] the group's attempt counters (hash: entry id -> failed attempts),
-- KEYS[3] the dead-letter stream, KEYS[4] (optional) the entry's history hash
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] max attempts, ARGV[4] now (epoch ms),
-- ARGV[5] short reason (never a payload or a secret), ARGV[6] history TTL (s), ARGV[7] dead-letter ceiling,
-- ARGV[8] '1' = delete the entry once dead-lettered (sole reader), ARGV[9] '1' = dead-letter now (DEAD)
-- Returns {0, attempts} to retry later, {1, attempts} when dead-lettered, {2, 0} when the entry is no longer
-- pending (another consumer finished it): nothing is recorded then; {3, attempts} when it was due for the dead
-- letters but they hold ARGV[7] entries already: the attempt is recorded and the entry stays pending, tried again later.
--
-- Dead letters are never trimmed (no MAXLEN): each is an accepted event nobody has handled, kept until an operator
-- replays it. At the ceiling the entry stays unfinished in its own stream instead, whose backlog ceiling then pushes
-- back on senders: nothing accepted is dropped, and memory stays bounded.
--
-- Atomicity: the dead-letter XADD and the XACK/XDEL happen in one script, so an entry is always in exactly one of
-- the two streams. All reads come first; the first write (HINCRBY) is the only one Redis may refuse for OOM, and
-- then nothing at all is written. Attempts live in Redis, so attempts made by an instance that died count too.
-- Every key shares the stream's hash tag (StreamPolicy), so the script runs on one Cluster slot.
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then
  return {2, 0}
end
local entry = redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2])
local full = redis.call('XLEN', KEYS[3]) >= tonumber(ARGV[7])
local history = KEYS[4]
local fresh = history and redis.call('EXISTS', history) == 0
local attempts = redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if history then
  redis.call('HINCRBY', history, 'attempts', 1)
  redis.call('HSET', history, 'last_error', ARGV[5], 'last_attempt_at', ARGV[4])
  if fresh then
    redis.call('EXPIRE', history, ARGV[6])
  end
end
local due = attempts >= tonumber(ARGV[3]) or ARGV[9] == '1'
if not due or full then
  if history then
    redis.call('HSET', history, 'outcome', 'retrying')
  end
  return {due and 3 or 0, attempts}
end

local fields = {'source_id', ARGV[2], 'attempts', tostring(attempts), 'error', ARGV[5], 'failed_at', ARGV[4]}
if #entry == 1 then
  local f = entry[1][2]
  for i = 1, #f, 2 do
    -- A replayed dead letter carries the bookkeeping of its previous death: replaced, not repeated.
    local k = f[i]
    if k ~= 'source_id' and k ~= 'attempts' and k ~= 'error' and k ~= 'failed_at' then
      fields[#fields + 1] = k
      fields[#fields + 1] = f[i + 1]
    end
  end
end
local dead = redis.call('XADD', KEYS[3], '*', unpack(fields))
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if ARGV[8] == '1' then
  redis.call('XDEL', KEYS[1], ARGV[2])
end
redis.call('HDEL', KEYS[2], ARGV[2])
if history then
  redis.call('HSET', history, 'outcome', 'dead_lettered', 'dead_letter_id', dead)
end
return {1, attempts}
