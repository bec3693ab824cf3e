-- Record a verified webhook delivery once and queue it for handling, or recognise it as a duplicate.
--
-- KEYS[1]    the events stream (bg:events:{bg:s<n>}, the delivery's shard)
-- KEYS[2]    this delivery's history hash (bg:wh:{bg:s<n>}:delivery:<provider>:<id>)
-- KEYS[3..n] dedupe markers; the delivery is a duplicate if ANY of them exists. Linktree passes two: one keyed by
--            the delivery id header (a provider retry reuses it) and one by a digest of the signature (the delivery
--            id is not signed, so a captured body replayed under a new id must still be caught). LinkMe passes one,
--            keyed by the signed envelope id. None is keyed by the body: a change back to an earlier state sends an
--            earlier body under a new delivery id, and it is a new delivery.
-- ARGV[1] dedupe window in seconds (markers and history live this long)
-- ARGV[2] backlog ceiling: entries the stream may hold (it holds only unfinished work: handled entries are deleted)
-- ARGV[3] provider, ARGV[4] delivery id, ARGV[5] event type, ARGV[6] received (epoch ms), ARGV[7] raw body
-- ARGV[8] (optional) this shard's number: then the LAST key is the delivery id's route (see webhook_route.lua), read
--         and pinned here in the same step. Only where one server holds every key (standalone, Sentinel): in Redis
--         Cluster the route lives in the id's own slot and webhook_route.lua runs first, on its own.
--
-- Returns {1, <stream entry id>} when recorded and queued, {0, <existing marker value>} for a duplicate, {-1, ''}
-- when the backlog is at its ceiling (nothing written: the caller answers 503 and the provider retries later),
-- {-2, <shard>} when the id is pinned to another shard (nothing written: the caller runs this on that shard).
-- Nothing is ever trimmed here: an entry leaves the stream only once it has been handled or dead-lettered.
--
-- Atomicity: a delivery must end up either deduplicated AND queued, or neither; never marked without being queued
-- (it would be lost: every retry answered "duplicate") and never queued twice.
--  * A script runs without any other command interleaving, on every instance's behalf, so the EXISTS checks and
--    the writes below form one step: two instances receiving the same delivery at once cannot both see "absent".
--  * Redis does not roll back a script that fails half-way, so the order of the writes matters. All reads come
--    first. XADD is the first write: if it fails (OOM under noeviction, a wrong-typed key) the script stops with
--    nothing written and the caller answers 503, so the sender retries. Redis refuses writes for OOM only before a
--    script's first write (a script that has written is allowed to finish), so once XADD succeeded the SETs and the
--    HSET cannot be refused; they can only fail on wrong-typed keys, which nothing but this script writes.
--  * All keys carry the shard's hash tag ({bg:s<n>}, picked from the body digest), so in Redis Cluster they live in
--    one slot and the script can run at all (the optional route key is never passed there).
--
-- Windows: markers expire after the dedupe window (7 days by default), longer than Linktree's whole retry horizon
-- (5 retries over ~20 min, webhook disabled after 72 h) and than the signed-timestamp tolerance (73 h), so any
-- replay the signature check still accepts is caught here.
local last = #KEYS
local route = nil
local pinned = nil
if ARGV[8] then
  route = KEYS[last]
  last = last - 1
  pinned = redis.call('GET', route)
  if pinned and pinned ~= ARGV[8] then
    return {-2, pinned}
  end
end

for i = 3, last do
  local seen = redis.call('GET', KEYS[i])
  if seen then
    -- A retry of a delivery we still remember: count it in the history (best effort; pcall so that an OOM
    -- refusal of this bookkeeping never turns a duplicate into an error the sender would retry forever). The id
    -- is pinned here as webhook_route.lua would have done (best effort too: it is only a pointer).
    if route and not pinned then
      pcall(redis.call, 'SET', route, ARGV[8], 'EX', ARGV[1])
    end
    if redis.call('EXISTS', KEYS[2]) == 1 then
      pcall(redis.call, 'HINCRBY', KEYS[2], 'deliveries', 1)
    end
    return {0, seen}
  end
end

-- Checked after the duplicates: a retry of a delivery already queued is still answered "duplicate" when full.
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then
  return {-1, ''}
end

local id = redis.call('XADD', KEYS[1], '*',
  'provider', ARGV[3], 'delivery_id', ARGV[4], 'type', ARGV[5], 'received', ARGV[6], 'body', ARGV[7])
for i = 3, last do
  redis.call('SET', KEYS[i], id, 'EX', ARGV[1])
end
if route and not pinned then
  redis.call('SET', route, ARGV[8], 'EX', ARGV[1])
end
redis.call('HSET', KEYS[2], 'provider', ARGV[3], 'delivery_id', ARGV[4], 'type', ARGV[5], 'received', ARGV[6],
  'deliveries', 1, 'attempts', 0, 'outcome', 'queued', 'stream_id', id)
redis.call('EXPIRE', KEYS[2], ARGV[1])
return {1, id}
