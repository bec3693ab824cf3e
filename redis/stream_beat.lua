-- An instance's heartbeat as a consumer of one stream's group.
--
-- KEYS[1] the group's heartbeats (sorted set: member = consumer, score = last beat, epoch ms by Redis TIME)
-- ARGV[1] this consumer, ARGV[2] how long a consumer without a beat stays alive (ms)
--
-- Redis's clock, not the instance's, stamps the beat: instances with skewed clocks still agree on who is dead.
-- The set expires long after its last beat, so a group nobody reads any more leaves nothing behind.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.max(86400000, tonumber(ARGV[2]) * 10))
return now
