-- Counts one click event, at most once per event id.
--
-- KEYS[1]    = the event's "counted" marker, e.g. bg:an:{alice}:seen:<event id>
-- KEYS[2..n] = the counter hashes to bump: the creator's minute, hour and day buckets, e.g. bg:an:{alice}:m:28512345
--              (or, for a click no creator owns, the single unattributed hash bg:an:{bg}:unattributed)
-- ARGV[1]    = marker lifetime in seconds (longer than any redelivery or journal replay is expected to take)
-- ARGV[2]    = the hash field to increment: the link id
-- ARGV[3..]  = for each counter hash in order, when it expires (epoch ms; bucket start + retention), 0 = never
--
-- Returns 1 when the click was counted, 0 when this event id had already been counted.
--
-- Atomicity: Redis runs a script to completion without interleaving any other command, so "mark as counted" and
-- "increment every bucket" are one step. Two consumers handed the same event (a redelivery after a crash between
-- counting and XACK, an entry claimed from a dead instance, a journal replayed twice) cannot both pass the SET NX,
-- and no reader ever sees the marker without the increments or the increments without the marker. If the caller
-- never hears the answer (timeout), running the script again is safe: it either counted (marker set, returns 0) or
-- did nothing. All keys carry the creator's hash tag (or {bg}), so they share one slot and this works on Cluster.
-- The one error a write could raise here is OOM (maxmemory with noeviction); Redis checks it at a script's first
-- write only (6.x) or before the script starts (7.x), so the script is refused whole (the SET NX fails, nothing is
-- marked, the entry stays pending and is retried) rather than half-applied.

if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
for i = 2, #KEYS do
  redis.call('HINCRBY', KEYS[i], ARGV[2], 1)
  local at = tonumber(ARGV[i + 1])
  if at and at > 0 then
    redis.call('PEXPIREAT', KEYS[i], at)
  end
end
return 1
