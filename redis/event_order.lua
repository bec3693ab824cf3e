-- Orders Linktree's changes to one link or one profile by when they were made, not by when they arrive: Linktree
-- retries a delivery for days, so the first attempt of an older change can land after a newer one.
--
-- KEYS[1] = the newest change time recorded for this link or profile (string: epoch milliseconds)
-- ARGV[1] = this change's time (epoch milliseconds, from the envelope's timestamp)
-- ARGV[2] = how long to remember it, milliseconds (longer than the provider's retry horizon)
--
-- Returns 1 when the change is not older than the newest one seen (it is recorded, and the caller applies it), 0 when
-- it is older (the caller skips it: a newer change to the same link or profile has already been applied). A change
-- made at the same time as the newest one is applied (a redelivery of it changes nothing).
local newest = tonumber(redis.call('GET', KEYS[1]) or '-1')
local at = tonumber(ARGV[1])
if at < newest then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
