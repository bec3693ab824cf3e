-- Re-stamps a permit with the time its request completed.
--
-- KEYS[1] = the budget log; KEYS[2] = the bounded lane's log (same hash tag); ARGV[1] = the permit's member
--
-- Why: the upstream counts a request when it arrives, which can be well after the permit was granted when the
-- gateway is CPU-starved. Arrival always lies between grant and completion, so keeping each permit in the log
-- for a full window after its completion means every request is counted for at least a window after it could
-- have arrived: the cap then holds in every rolling window as the upstream sees it, not only as Redis saw the
-- grants. ZADD XX only updates a permit still in the log (it never re-adds one already trimmed).
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZADD', KEYS[2], 'XX', 'GT', now, ARGV[1])
return redis.call('ZADD', KEYS[1], 'XX', 'GT', now, ARGV[1])
