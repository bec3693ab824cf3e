-- The secret every instance on this Redis keys its click fingerprints with, when none is configured.
-- KEYS[1] = the secret's key; ARGV[1] = when the caller's secret was first drawn (ms, a whole number), ARGV[2] = it (hex).
-- Stored as "<drawn>:<hex>". Returns the secret held after the call: the oldest drawn of the one held and the offer.
--
-- The oldest wins, not the first written: after Redis lost the key, an instance starting before the running ones
-- looked again wrote its own new secret, and every running instance then switched to it, so one visitor counted twice
-- (once per secret) in one window. Now the running instances, holding the older one, put it back at their next look.
local held = redis.call('GET', KEYS[1])
if held then
  local drawn = tonumber(string.match(held, '^(%d+):'))
  if drawn and drawn <= tonumber(ARGV[1]) then
    return held
  end
end
local offer = ARGV[1] .. ':' .. ARGV[2]
redis.call('SET', KEYS[1], offer)
return offer
