-- Cluster-wide upstream budget: a sliding-window log with priority lanes and a shared back-off.
--
-- KEYS[1] = the budget's log (sorted set of permit timestamps, microseconds), e.g. bg:budget:{linktree}:log
-- KEYS[2] = the shared back-off marker (string: blocked-until, microseconds),  bg:budget:{linktree}:blocked
--           Both carry the same hash tag, so they live in one slot and the script works on Redis Cluster.
-- ARGV[1] = limit: permits allowed in any window
-- ARGV[2] = window length in microseconds
-- ARGV[3] = this lane's ceiling: the lane is granted a permit only while fewer than this many permits were
--           taken in the window (foreground = limit; lower lanes stop earlier, leaving the reserve to higher ones)
-- ARGV[4] = a unique member for this permit (instance id + counter), so equal timestamps never collide
--
-- Returns {granted (1|0), wait_us, used_after}: when not granted, wait_us is the time until this lane could be
-- granted a permit (or until the back-off ends).
--
-- Atomicity: Redis runs a script to completion without interleaving other commands, so trimming the log,
-- counting, and adding the new permit are one step. Two instances can never both see "89 used" and both add
-- the 90th. The only clock is the Redis server's TIME, so instance clock skew cannot stretch or shrink the
-- window. Because the log keeps every permit of the last window, the cap holds in every rolling window, not
-- just in aligned ones (a fixed window or a GCRA with a full burst would allow close to 2x across a boundary).
-- Determinism: TIME is non-deterministic, which Redis >= 5 allows because scripts are replicated as effects.

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local ceiling = tonumber(ARGV[3])

local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return {0, blocked - now, -1}
end

redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local used = redis.call('ZCARD', KEYS[1])
if used < ceiling then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000) + 1000)
  return {1, 0, used + 1}
end

-- The lane gets a permit once the log shrinks below its ceiling: when the (used - ceiling + 1)-th oldest
-- entry leaves the window.
local oldest = redis.call('ZRANGE', KEYS[1], used - ceiling, used - ceiling, 'WITHSCORES')
local wait = window
if oldest[2] then
  wait = tonumber(oldest[2]) + window - now
end
if wait < 1 then
  wait = 1
end
return {0, wait, used}
