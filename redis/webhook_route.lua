-- Pins a delivery id to the shard its first copy was queued on, and answers that shard.
--
-- KEYS[1] the delivery id's route (bg:wh:route:{<provider>:<id>}: tagged by the id itself, so routes spread over
--         every slot)
-- ARGV[1] the shard of this copy's body digest, ARGV[2] lifetime in seconds (the dedupe window)
-- Returns the shard to use: the pinned one when this id was seen before, else ARGV[1] (now pinned).
--
-- Why: a delivery's shard follows its body, so that a captured body replayed under a new id meets its body marker.
-- A retry under the same id with a different body (a provider that re-stamps the body) would then land on another
-- shard and miss its id marker. The route sends it to the first copy's shard, where webhook_ingest.lua finds the id
-- marker. The route is only a pointer, never a dedupe decision: if it exists but nothing was queued (the ingest step
-- after it failed), the retry goes to that shard and is queued there. GET-then-SET runs as one script, so two copies
-- of one id arriving at once agree on the shard.
local pinned = redis.call('GET', KEYS[1])
if pinned then
  return tonumber(pinned)
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return tonumber(ARGV[1])
