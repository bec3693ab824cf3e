-- Move one outbound dead letter back onto the outbound stream for another round of attempts at its destination.
--
-- KEYS[1] the dead-letter stream, KEYS[2] the outbound stream, KEYS[3] the delivery's history hash
-- ARGV[1] dead-letter entry id, ARGV[2] now (epoch ms), ARGV[3] history TTL (s)
-- Returns the new outbound entry id, or false when there is no such dead letter (already replayed).
--
-- Atomicity: the XADD and the XDEL happen together, so a replay can neither lose the delivery nor queue it twice.
-- The entry keeps its webhook-id: the destination sees the same id and can deduplicate. XADD is the first write.
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
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
return id
