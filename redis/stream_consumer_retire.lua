-- Removes a consumer from a stream's group when it is leaving cleanly with nothing pending.
--
-- KEYS[1] = the stream, ARGV[1] = the group, ARGV[2] = the consumer
--
-- Returns 1 when the consumer was removed, 0 when it still owns pending entries (they stay, to be claimed by another
-- instance with XAUTOCLAIM) or does not exist. Checking and deleting in one script means no entry delivered in
-- between can be dropped with the consumer (XGROUP DELCONSUMER discards the consumer's pending entries).

local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if #pending > 0 then
  return 0
end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) >= 0 and 1 or 0
