-- Acknowledge a finished entry (its handler answered DONE) for one consumer group.
--
-- KEYS[1] the stream, KEYS[2] the group's attempt counters (hash: entry id -> failed attempts),
-- KEYS[3] (optional) the entry's history hash
-- ARGV[1] consumer group, ARGV[2] entry id, ARGV[3] now (epoch ms), ARGV[4] '1' when this group is the stream's only
-- reader, so the entry can be deleted at once (the stream then only ever holds unfinished work)
-- Returns 1 when this call acknowledged the entry, 0 when it was no longer pending (already acknowledged).
--
-- Atomicity: XACK, XDEL, the counter and the history change together, so the admin API never shows "handled" for an
-- entry still pending. XACK is the first write; nothing after it can be refused. Every key shares the stream's hash
-- tag (one Cluster slot).
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if ARGV[4] == '1' then
  redis.call('XDEL', KEYS[1], ARGV[2])
end
redis.call('HDEL', KEYS[2], ARGV[2])
if acked == 1 and KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('HINCRBY', KEYS[3], 'attempts', 1)
  redis.call('HSET', KEYS[3], 'outcome', 'handled', 'handled_at', ARGV[3])
end
return acked
