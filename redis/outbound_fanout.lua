-- Queue one event for every destination that wants it: one outbound entry per destination, so each destination
-- retries on its own.
--
-- KEYS[1] the event's fan-out marker, KEYS[2] the outbound stream, KEYS[3..] the history hash of each entry
-- ARGV[1] marker/history TTL (s), ARGV[2] backlog ceiling, ARGV[3] number of entries, then per entry: field count
-- and the fields; ARGV[last] now (epoch ms)
-- Returns how many entries were queued (or were queued by an earlier attempt of the same event: the marker holds
-- that count), or -1 when the outbound stream is at its ceiling (nothing written: the caller keeps the event).
--
-- Atomicity: the marker and every XADD are written together, so a retried event is never fanned out twice and a
-- failure never leaves it half fanned out. All reads come first; the first write is the marker.
local done = redis.call('GET', KEYS[1])
if done then
  return tonumber(done)
end
local n = tonumber(ARGV[3])
if n > 0 and redis.call('XLEN', KEYS[2]) >= tonumber(ARGV[2]) then
  return -1
end
redis.call('SET', KEYS[1], n, 'EX', ARGV[1])
local i = 4
for e = 1, n do
  local count = tonumber(ARGV[i])
  local fields = {}
  for j = 1, count do
    fields[j] = ARGV[i + j]
  end
  local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
  redis.call('HSET', KEYS[2 + e], 'outcome', 'queued', 'attempts', 0, 'queued_at', ARGV[#ARGV], 'stream_id', id)
  for j = 1, count, 2 do
    if fields[j] ~= 'body' then
      redis.call('HSET', KEYS[2 + e], fields[j], fields[j + 1])
    end
  end
  redis.call('EXPIRE', KEYS[2 + e], ARGV[1])
  i = i + count + 1
end
return n
