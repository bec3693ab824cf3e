-- A consumer leaving its stream's group cleanly (its instance is stopping).
--
-- KEYS[1] the stream, KEYS[2] the group's heartbeats (see stream_beat.lua)
-- ARGV[1] the group, ARGV[2] the consumer
--
-- Returns 1 when the consumer was removed, 0 when it still owns pending entries: then its heartbeat is stamped 0,
-- so the next reaper of any other instance takes them over at once instead of waiting out the heartbeat TTL.
-- Checking and deleting in one script means no entry delivered in between can be dropped with the consumer
-- (XGROUP DELCONSUMER discards the consumer's pending entries).

local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then
  redis.call('ZADD', KEYS[2], 0, ARGV[2])
  redis.call('ZREM', KEYS[2], 'since:' .. ARGV[2])
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[2], 'since:' .. ARGV[2])
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) >= 0 and 1 or 0
