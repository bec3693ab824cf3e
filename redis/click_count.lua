-- Counts a batch of click events of one creator (or of no creator), each at most once per event id.
--
-- KEYS, for each event in order: its "counted" marker (e.g. bg:an:{alice}:seen:<event id>), then the counter hashes
--            to bump: the creator's minute, hour and day buckets (e.g. bg:an:{alice}:m:28512345), or, for a click no
--            creator owns, the unattributed hash of its day (bg:an:{bg}:unattributed:d:<day>)
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
-- Increments are summed per counter hash and field and applied once each after the loop: a batch of one creator's
-- clicks (often one link, one minute) costs one HINCRBY and one PEXPIREAT per hash, not one per click, which keeps
-- the server's work and its append-only file small under a click storm. Order of first appearance keeps the effects
-- (replicated and persisted) in the batch's order.
local hashes = {}   -- counter hash names in order of first appearance
local fields = {}   -- hash name -> list of its fields in order of first appearance
local counts = {}   -- hash name -> { field -> increment }
local expiry = {}   -- hash name -> latest expiry time asked for (epoch ms), 0 = never
local k = 1
local a = 2
while a <= #ARGV do
  local field = ARGV[a]
  local n = tonumber(ARGV[a + 1])
  if redis.call('SET', KEYS[k], '1', 'NX', 'EX', ARGV[1]) then
    for i = 1, n do
      local hash = KEYS[k + i]
      local byField = counts[hash]
      if not byField then
        byField = {}
        counts[hash] = byField
        fields[hash] = {}
        expiry[hash] = 0
        hashes[#hashes + 1] = hash
      end
      if not byField[field] then
        byField[field] = 0
        local list = fields[hash]
        list[#list + 1] = field
      end
      byField[field] = byField[field] + 1
      local at = tonumber(ARGV[a + 1 + i])
      if at and at > expiry[hash] then
        expiry[hash] = at
      end
    end
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
  k = k + 1 + n
  a = a + 2 + n
end
for _, hash in ipairs(hashes) do
  for _, field in ipairs(fields[hash]) do
    redis.call('HINCRBY', hash, field, counts[hash][field])
  end
  if expiry[hash] > 0 then
    redis.call('PEXPIREAT', hash, expiry[hash])
  end
end
return out
