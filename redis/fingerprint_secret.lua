-- The secret every instance on this Redis keys its click fingerprints with, when none is configured.
-- KEYS[1] = the secret's key, ARGV[1] = this instance's candidate (hex), written only if no secret is there yet.
-- Returns the secret held (the candidate, or the one another instance wrote first).
--
-- One script: SET NX and GET in one step (SET ... NX GET needs Redis 7), so two instances starting together
-- both read the one that was written.
redis.call('SET', KEYS[1], ARGV[1], 'NX')
return redis.call('GET', KEYS[1])
