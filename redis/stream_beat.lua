-- An instance's heartbeat as a consumer of one stream's group.
--
-- KEYS[1] the group's heartbeats (sorted set: member = consumer, score = last beat, epoch ms by Redis TIME)
-- ARGV[1] this consumer, ARGV[2] how long a consumer without a beat stays alive (ms)
--
-- Redis's clock, not the instance's, stamps the beat: instances with skewed clocks still agree on who is dead.
-- The set expires long after its last beat, so a group nobody reads any more leaves nothing behind.
--
-- The set also keeps, under "since:" + consumer, when this consumer's current run of beats began: a beat more than
-- half of ARGV[2] after the previous one (beats come every third of it), or the first, starts a new run.
-- stream_reap.lua judges nobody dead for a consumer whose run is younger than ARGV[2]: after an outage, beats are
-- stale by Redis's clock, and the first instance back must not take for dead the live ones whose next beat simply has
-- not come yet.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local previous = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not previous or tonumber(previous) < now - tonumber(ARGV[2]) / 2 then
  redis.call('ZADD', KEYS[1], now, 'since:' .. ARGV[1])
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.max(86400000, tonumber(ARGV[2]) * 10))
return now
