-- Move one dead letter back onto the events stream for another round of attempts.
--
-- KEYS[1] the dead-letter stream, KEYS[2] the events stream, KEYS[3] the delivery's history hash
-- ARGV[1] dead-letter entry id, ARGV[2] unused (was a stream cap; work is never capped), ARGV[3] now (epoch ms), ARGV[4] history TTL (s)
-- Returns the new events-stream entry id, or false when there is no such dead letter (already replayed).
--
-- Atomicity: XADD to the events stream and XDEL from the dead letters happen together, so a replay can neither
-- lose the event nor queue it twice (two operators replaying the same id at once: the second finds nothing).
-- XADD is the first write; if it is refused, nothing changed.
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entry == 0 then
  return false
end
local f = entry[1][2]
local event = {}
for i = 1, #f, 2 do
  local k = f[i]
  if k == 'provider' or k == 'delivery_id' or k == 'type' or k == 'received' or k == 'body' then
    event[#event + 1] = k
    event[#event + 1] = f[i + 1]
  end
end
local id = redis.call('XADD', KEYS[2], '*', unpack(event))
redis.call('XDEL', KEYS[1], ARGV[1])
local fresh = redis.call('EXISTS', KEYS[3]) == 0
redis.call('HSET', KEYS[3], 'outcome', 'replayed', 'replayed_at', ARGV[3], 'stream_id', id)
redis.call('HDEL', KEYS[3], 'cycle_attempts')
redis.call('HINCRBY', KEYS[3], 'replays', 1)
if fresh then
  for i = 1, #event, 2 do
    if event[i] ~= 'body' then
      redis.call('HSET', KEYS[3], event[i], event[i + 1])
    end
  end
  redis.call('EXPIRE', KEYS[3], ARGV[4])
end
return id
