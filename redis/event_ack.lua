-- Acknowledge a handled event: drop it from the group's pending list and from the stream, record the outcome.
--
-- KEYS[1] the events stream, KEYS[2] the delivery's history hash
-- ARGV[1] consumer group, ARGV[2] stream entry id, ARGV[3] now (epoch ms)
-- Returns 1 when this call acknowledged the entry, 0 when it was no longer pending (already acknowledged).
--
-- Atomicity: XACK, XDEL and the history update happen together, so the admin API never shows "handled" for an
-- entry still pending, nor a pending entry already gone from the stream. XACK is the first write; nothing follows
-- that could be refused. Handled entries are deleted: the stream only ever holds unfinished work (its length is
-- the backlog), and the history hash keeps the record for the dedupe window.
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if acked == 1 and redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 'attempts', 1)
  redis.call('HSET', KEYS[2], 'outcome', 'handled', 'handled_at', ARGV[3])
  redis.call('HDEL', KEYS[2], 'cycle_attempts')
end
return acked
