-- Reads counter hashes of one creator for an analytics query, in one call.
--
-- KEYS   the creator's bucket hashes, in the order of the range (e.g. bg:an:{alice}:m:28512345); all carry the
--        creator's hash tag, so they share one slot and this runs on Redis Cluster
-- Returns one reply per key, in order: the hash as HGETALL gives it (field, value, ...), empty for a bucket nobody
-- clicked in.
--
-- Why a script: a query read each bucket with its own HGETALL, pipelined, so a day by minute put 1,440 commands at
-- once on the event loop's shared connection, whose queue holds redis.maxWaiting (2,048) of them; three overlapping
-- queries overflowed it and were refused while Redis was healthy. A call reads at most ClickQuery.KEYS_PER_CALL
-- hashes (read-only, kept short since a script holds the server for its whole run), and a query has one call in
-- flight at a time.

local out = {}
for i = 1, #KEYS do
  out[i] = redis.call('HGETALL', KEYS[i])
end
return out
