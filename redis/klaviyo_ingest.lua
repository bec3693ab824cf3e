-- Queue the new events of one verified Klaviyo batch, each deduplicated by its external_id, in one atomic step.
--
-- KEYS[1]          the events stream (bg:events:{bg}), shared with Linktree and LinkMe deliveries
-- KEYS[2i], KEYS[2i+1] for event i (1-based): its dedupe marker (bg:wh:{bg}:dedupe:klaviyo:id:<external_id>) and its
--                  history hash (bg:wh:{bg}:delivery:klaviyo:<external_id>)
-- ARGV[1] dedupe window in seconds (markers and history live this long)
-- ARGV[2] backlog ceiling: the batch is refused when queueing its new events would take the stream past it
-- ARGV[3] provider ("klaviyo"), ARGV[4] received (epoch ms)
-- ARGV[5 + 3(i-1)], +1, +2: event i's external_id, topic, event JSON
--
-- Returns {queued, duplicates} or, when the backlog ceiling refuses the batch, {-1, stream length}.
--
-- Entries carry the same fields as redis/webhook_ingest.lua writes (provider, delivery_id, type, received, body),
-- so the one events consumer handles them; delivery_id is the external_id.
--
-- Atomicity: every event of the batch ends up either queued and marked, or recognised as a duplicate; never marked
-- without being queued (its retry would be answered "duplicate" and it would be lost), never queued twice, and the
-- sender's answer counts exactly what happened.
--  * No other command interleaves with a script: two instances receiving the same or overlapping batches cannot
--    both see an event as new.
--  * All reads (markers, stream length) come first, so a refusal leaves nothing written.
--  * The XADDs are the first writes. Redis refuses a script's writes for OOM only before its first write; once the
--    first XADD succeeded, the rest of the batch is accepted too. A wrong-typed key is the only other failure, and
--    nothing but this script and webhook_ingest.lua writes these keys.
--  * Every key carries the {bg} hash tag: one Cluster slot, so the script can run at all.
--  * No MAXLEN: handled entries are deleted by the consumer, so the stream holds only unfinished work and the
--    ceiling, not trimming, bounds it: trimming would drop events already answered 200.
local n = (#KEYS - 1) / 2
local fresh = {}
local duplicates = 0
for i = 1, n do
  local marker = KEYS[2 * i]
  if redis.call('EXISTS', marker) == 1 then
    duplicates = duplicates + 1
    local history = KEYS[2 * i + 1]
    if redis.call('EXISTS', history) == 1 then
      pcall(redis.call, 'HINCRBY', history, 'deliveries', 1)
    end
  else
    fresh[#fresh + 1] = i
  end
end

if #fresh > 0 then
  local backlog = redis.call('XLEN', KEYS[1])
  if backlog + #fresh > tonumber(ARGV[2]) then
    return {-1, backlog}
  end
end

local ids = {}
for j = 1, #fresh do
  local i = fresh[j]
  local a = 5 + 3 * (i - 1)
  ids[j] = redis.call('XADD', KEYS[1], '*', 'provider', ARGV[3], 'delivery_id', ARGV[a], 'type', ARGV[a + 1],
    'received', ARGV[4], 'body', ARGV[a + 2])
end
for j = 1, #fresh do
  local i = fresh[j]
  local a = 5 + 3 * (i - 1)
  redis.call('SET', KEYS[2 * i], ids[j], 'EX', ARGV[1])
  redis.call('HSET', KEYS[2 * i + 1], 'provider', ARGV[3], 'delivery_id', ARGV[a], 'type', ARGV[a + 1],
    'received', ARGV[4], 'deliveries', 1, 'attempts', 0, 'outcome', 'queued', 'stream_id', ids[j])
  redis.call('EXPIRE', KEYS[2 * i + 1], ARGV[1])
end
return {#fresh, duplicates}
