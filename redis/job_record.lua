-- Record an operation's outcome, once, and only by the lease holder.
--
-- KEYS[1] the job's lease, KEYS[2] in-flight hash, KEYS[3] results hash, KEYS[4] the job hash
-- ARGV[1] owner token, ARGV[2] operation index, ARGV[3] result JSON, ARGV[4] 'applied' or 'failed',
-- ARGV[5] the job's time to live (seconds), which the results share
-- Returns 1 when recorded, 0 when fenced off (lease lost) or already recorded.
--
-- Atomicity: the result, the in-flight marker and the job's counters change together, so progress never shows an
-- operation both in flight and done, and the counters always equal the number of results.
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then
  return 0
end
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('HINCRBY', KEYS[4], ARGV[4], 1)
redis.call('EXPIRE', KEYS[3], ARGV[5])
return 1
