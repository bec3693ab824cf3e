-- Counts a batch of click events of one creator (or of no creator), each at most once per event id.
--
-- KEYS, for each event in order: its "counted" marker (e.g. bg:an:{alice}:seen:<event id>), then the counter hashes
--            to bump: the creator's minute, hour and day buckets (e.g. bg:an:{alice}:m:28512345), or, for a click no
--            creator owns, the single unattributed hash bg:an:{bg}:unattributed
-- ARGV[1]    marker lifetime in seconds (longer than any redelivery or journal replay is expected to take)
-- ARGV, then for each event in order: the hash field to increment (the link id), the number n of counter hashes it
--            has in KEYS, then n expiry times, one per counter hash (epoch ms; bucket start + retention), 0 = never
--
-- Returns one number per event, in order: 1 when the click was counted, 0 when its event id had already been
-- counted (also when the same event appears twice in this batch).
--
-- Atomicity: Redis runs a script to completion without interleaving any other command, so for every event "mark as
-- counted" and "increment every bucket" are one step. Two consumers handed the same event (a redelivery after a
-- crash between counting and XACK, an entry claimed from a dead instance, a journal replayed twice) cannot both pass
-- the SET NX, and no reader ever sees the marker without the increments or the increments without the marker. If
-- the caller never hears the answer (timeout), running the script again is safe: each event either counted (marker
-- set, returns 0) or did nothing. The caller batches one creator's events (one hash tag, or {bg} for unattributed
-- clicks), so all keys share one slot and this works on Cluster: one call per creator per read instead of one per
-- click. The one error a write could raise here is OOM (maxmemory with noeviction); Redis checks it at a script's
-- first write only (6.x) or before the script starts (7.x), so the script is refused whole (nothing is marked, the
-- entries stay pending and are retried) rather than half-applied.

local out = {}
local k = 1
local a = 2
while a <= #ARGV do
  local field = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  if redis.call('SET', KEYS[k], '1', 'NX', 'EX', ARGV[1]) then
    for i = 1, n do
      redis.call('HINCRBY', KEYS[k + i], field, 1)
      local at = tonumber(ARGV[a + 1 + i])
      if at and at > 0 then
        redis.call('PEXPIREAT', KEYS[k + i], at)
      end
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  k = k + 1 + n
  a = a + 2 + n
end
return out
