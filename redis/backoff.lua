-- Shared back-off after an upstream 429: nobody calls until blocked-until.
--
-- KEYS[1] = the back-off marker (same hash tag as the budget log), e.g. bg:budget:{linktree}:blocked
-- ARGV[1] = Retry-After in microseconds
--
-- Atomicity: read-compare-write in one script, so a shorter Retry-After reported by one instance never cuts
-- short a longer one another instance stored. The time base is Redis TIME, like the limiter's.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local untilUs = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilUs > current then
  redis.call('SET', KEYS[1], untilUs, 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return math.max(untilUs, current) - now
