-- Instance heartbeat for the upstream budget, and a reading of the budget's current use.
--
-- KEYS[1] = live instances (sorted set: member = instance id, score = last beat, microseconds)
-- KEYS[2] = the budget log (see rate_limit.lua); same hash tag, same slot
-- ARGV[1] = this instance's id
-- ARGV[2] = how long an instance counts as live without a beat, microseconds
-- ARGV[3] = the budget window, microseconds
--
-- Returns {live instances, permits used in the current window}. Each instance keeps these as its plan for
-- when Redis becomes unreachable: it then limits itself to (budget - used) / live for the rest of the window,
-- and budget / live after that, so the instances together stay within the budget.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) / 1000) * 2)
local live = redis.call('ZCARD', KEYS[1])
local used = redis.call('ZCOUNT', KEYS[2], '(' .. (now - tonumber(ARGV[3])), '+inf')
return {live, used}
