-- Move one dead letter back onto its stream for another round of attempts: an event onto its events shard, an
-- outbound delivery onto the outbound stream (it keeps its webhook-id, so its destination can deduplicate).
--
-- KEYS[1] the dead-letter stream, KEYS[2] the stream, KEYS[3] the history hash of what is replayed
-- ARGV[1] dead-letter entry id, ARGV[2] now (epoch ms), ARGV[3] history TTL (s), ARGV[4] '1' when a history this
-- replay creates (the first one expired) should also describe the entry (its fields but the body)
-- Returns the new stream entry id, or false when there is no such dead letter (already replayed).
--
-- The entry goes back as it was queued: the dead-letter bookkeeping stream_fail.lua added (source_id, attempts,
-- error, failed_at) is dropped, so its attempts start afresh.
--
-- Atomicity: XADD to the stream and XDEL from the dead letters happen together, so a replay can neither lose the
-- entry nor queue it twice (two operators replaying the same id at once: the second finds nothing). XADD is the
-- first write; if it is refused, nothing changed. All three keys share one hash tag (one Cluster slot).
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entry == 0 then
  return false
end
local f = entry[1][2]
local fields = {}
for i = 1, #f, 2 do
  local k = f[i]
  if k ~= 'source_id' and k ~= 'attempts' and k ~= 'error' and k ~= 'failed_at' then
    fields[#fields + 1] = k
    fields[#fields + 1] = f[i + 1]
  end
end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XDEL', KEYS[1], ARGV[1])
local fresh = redis.call('EXISTS', KEYS[3]) == 0
redis.call('HSET', KEYS[3], 'outcome', 'replayed', 'replayed_at', ARGV[2], 'stream_id', id)
redis.call('HINCRBY', KEYS[3], 'replays', 1)
if fresh then
  if ARGV[4] == '1' then
    for i = 1, #fields, 2 do
      if fields[i] ~= 'body' then
        redis.call('HSET', KEYS[3], fields[i], fields[i + 1])
      end
    end
  end
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
return id
