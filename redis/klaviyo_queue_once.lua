-- Queues one event for the Klaviyo sink once per delivery id: the events handler that queues a milestone may be
-- retried after queueing it (the fan-out that follows refused by a full outbound stream), and each retry queued it
-- again; the sink does not deduplicate (Klaviyo does, by unique_id, after the sink has spent a request on it).
--
-- KEYS[1] = the sink's retry stream (bg:sink:klaviyo:retry:{bg}); KEYS[2] = this delivery id's marker, same hash tag
--           (bg:sink:klaviyo:queued:{bg}:<delivery id>): one slot, so the script works on Redis Cluster
-- ARGV[1] = how long the marker is kept, ms (past the providers' retry horizon); ARGV[2..] = the entry's field/value pairs
--
-- Returns 1 when queued now, 0 when it was queued before. The marker and the entry are written in one step: never a
-- marker without its entry, nor an entry queued twice while the marker lives.
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[1]) then
  redis.call('XADD', KEYS[1], '*', unpack(ARGV, 2))
  return 1
end
return 0
