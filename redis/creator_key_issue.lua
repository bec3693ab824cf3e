-- Issues a creator API key: records its hash in the global index and in the creator's key list, together.
--
-- KEYS[1] = the index, bg:keys:{bg}:index (hash: sha-256 hex of the key -> "<username>:<key id>")
-- KEYS[2] = the creator's keys, bg:keys:{bg}:creator:<username> (hash: key id -> "<sha-256 hex>:<created ms>")
-- ARGV[1] = sha-256 hex of the key, ARGV[2] = username, ARGV[3] = key id, ARGV[4] = created (epoch ms)
--
-- Only the hash is stored; the key itself is returned to the operator once and never kept. Both writes happen in one
-- atomic step, so a key is never usable without being listed (and revocable). Both keys carry {bg}: one slot.

if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
redis.call('HSET', KEYS[2], ARGV[3], ARGV[1] .. ':' .. ARGV[4])
return 1
