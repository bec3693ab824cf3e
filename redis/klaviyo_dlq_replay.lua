-- Moves up to ARGV[1] dead letters of the Klaviyo sink back to its retry stream, oldest first.
--
-- KEYS[1] = dead letters, bg:sink:klaviyo:dlq:{bg} (or a clicks shard's, bg:sink:klaviyo:dlq:{bg:s<n>})
-- KEYS[2] = retry stream, bg:sink:klaviyo:retry:{bg} (read by the sink's consumer group like the clicks stream), or
--           for a shard's dead letters that clicks shard, bg:clicks:{bg:s<n>} (the click counters count each event once)
-- ARGV[1] = how many to move
--
-- Returns how many were moved. Each entry is re-added and deleted in the same atomic step, so a replay can neither
-- lose a dead letter nor queue it twice. Both keys carry the same tag: one slot.

local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', tonumber(ARGV[1]))
for _, e in ipairs(entries) do
  redis.call('XADD', KEYS[2], '*', unpack(e[2]))
  redis.call('XDEL', KEYS[1], e[1])
end
return #entries
