-- Appends a batch of click events to the clicks stream unless that would take its backlog past the ceiling.
--
-- KEYS[1] the clicks stream
-- ARGV[1] the ceiling (entries), ARGV[2..] the events: for each, its field count n, then n field/value items
-- Returns the number of events appended, or -1 (nothing appended) when the stream is at its ceiling: the caller
-- keeps the clicks in its local journal and offers them again later. Nothing is ever trimmed here (no MAXLEN):
-- entries leave the stream only once every consumer group has finished them (stream_trim.lua).
local n = 0
local i = 2
while i <= #ARGV do
  n = n + 1
  i = i + 1 + tonumber(ARGV[i])
end
if redis.call('XLEN', KEYS[1]) + n > tonumber(ARGV[1]) then
  return -1
end
i = 2
while i <= #ARGV do
  local count = tonumber(ARGV[i])
  redis.call('XADD', KEYS[1], '*', unpack(ARGV, i + 1, i + count))
  i = i + 1 + count
end
return n
