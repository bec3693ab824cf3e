-- Revokes one creator API key by id: removes it from the creator's list and from the index, together.
--
-- KEYS[1] = the index, bg:keys:{bg}:index
-- KEYS[2] = the creator's keys, bg:keys:{bg}:creator:<username>
-- ARGV[1] = key id
--
-- Returns 1 when the key existed (and is now unusable), 0 when the creator has no such key. Atomic, so a revoked key
-- can never linger in the index after disappearing from the list.

local entry = redis.call('HGET', KEYS[2], ARGV[1])
if not entry then
  return 0
end
local hash = string.match(entry, '^([0-9a-f]+):')
if hash then
  redis.call('HDEL', KEYS[1], hash)
end
redis.call('HDEL', KEYS[2], ARGV[1])
return 1
