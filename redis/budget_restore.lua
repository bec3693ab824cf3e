-- Puts permits an instance granted itself while Redis was unreachable back into the shared log, so the
-- window that spans the recovery still counts them.
--
-- KEYS[1] = the budget log; ARGV = pairs of (epoch microseconds, unique member)
-- Atomicity: one script, so no permit is granted against a log that holds only part of the restored entries.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #ARGV, 2 do
  local at = tonumber(ARGV[i])
  if at > now then
    at = now
  end
  redis.call('ZADD', KEYS[1], at, ARGV[i + 1])
end
return #ARGV / 2
