-- Instance heartbeat for the upstream budget: keeps the roster the limiter reserves shares from (see
-- rate_limit.lua for the whole argument), and reads the budget's current use.
--
-- KEYS[1] = the roster (sorted set: member = instance id, score = last report, microseconds)
-- KEYS[2] = the budget log (see rate_limit.lua)
-- KEYS[3] = roster details (hash: "<id>:s" = local share, "<id>:u" = own grants in the window)
-- KEYS[4] = records put back after a state loss (hash: id = when)
-- KEYS[5] = instances that left cleanly (sorted set: id = when), so a stale roster never puts them back
--           All keys share the budget's hash tag (one slot, Redis Cluster safe).
-- ARGV[1] = this instance's id
-- ARGV[2] = its local share: the permits per window it would grant itself if it lost Redis now
-- ARGV[3] = its own grants in the current window (shared and local)
-- ARGV[4] = record lifetime, microseconds (see rate_limit.lua)
-- ARGV[5] = the budget window, microseconds
-- ARGV[6] = 1 when this instance has reported before (so a missing record means the state was lost)
-- ARGV[7] = the budget: the share recorded is at most what the other live records leave of it
--
-- Shares: each instance asks for budget / the instance count it last read, so when one joins, the others still hold
-- their larger shares until their next report. Recording the newcomer's full share then would let the records sum
-- past the budget, and a cut-off instance grants itself its recorded share: it gets what is left (maybe 0) and its
-- full share once the others have reported their smaller ones. The caller keeps the share recorded here as the one
-- it may take locally.
--
-- Returns {-1} when the caller must restore first (its record is missing although it reported before, or was put
-- back by another instance after a loss): a plain report would end its reservation without adding its grants.
-- Otherwise {records, permits in the log in the window, then id, last report, share, grants for every record}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local id = ARGV[1]
local lifetime = tonumber(ARGV[4])
if (ARGV[6] == '1' and not redis.call('ZSCORE', KEYS[1], id)) or redis.call('HEXISTS', KEYS[4], id) == 1 then
  return {-1}
end
local lapsed = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - lifetime)
for _, gone in ipairs(lapsed) do
  redis.call('ZREM', KEYS[1], gone)
  redis.call('HDEL', KEYS[3], gone .. ':s', gone .. ':u')
  redis.call('HDEL', KEYS[4], gone)
end
local share = tonumber(ARGV[2])
local left = tonumber(ARGV[7])
for _, other in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if other ~= id then
    left = left - tonumber(redis.call('HGET', KEYS[3], other .. ':s') or '0')
  end
end
if share > left then
  share = math.max(0, left)
end
redis.call('ZADD', KEYS[1], now, id)
redis.call('HSET', KEYS[3], id .. ':s', share, id .. ':u', ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - lifetime)
local ttl = math.ceil(lifetime / 1000) * 2
for i = 1, 5 do
  if i ~= 2 then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
local out = {redis.call('ZCARD', KEYS[1]), redis.call('ZCOUNT', KEYS[2], '(' .. (now - tonumber(ARGV[5])), '+inf')}
local roster = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #roster, 2 do
  local rid = roster[i]
  out[#out + 1] = rid
  out[#out + 1] = roster[i + 1]
  out[#out + 1] = redis.call('HGET', KEYS[3], rid .. ':s') or '0'
  out[#out + 1] = redis.call('HGET', KEYS[3], rid .. ':u') or '0'
end
return out
