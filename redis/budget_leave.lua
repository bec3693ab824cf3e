-- An instance leaves cleanly: its record and reservation end now, and a stale roster elsewhere never puts it back.
--
-- KEYS[1] = the roster; KEYS[2] = roster details; KEYS[3] = records put back; KEYS[4] = instances that left
-- (all one hash tag). ARGV[1] = the instance id; ARGV[2] = record lifetime, microseconds.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1] .. ':s', ARGV[1] .. ':u')
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[4], now, ARGV[1])
redis.call('PEXPIRE', KEYS[4], math.ceil(tonumber(ARGV[2]) / 1000) * 2)
return 1
