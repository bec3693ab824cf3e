-- Note on a delivery's history what its handler did (or why it was skipped), without creating a history that
-- ingestion did not (it would have no expiry).
--
-- KEYS[1] the delivery's history hash; ARGV: field/value pairs
-- Returns 1 when noted, 0 when there is no such history.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
