-- Heartbeat for events an instance is still working on (handling, or waiting to retry): reset their idle time so
-- that no other instance's XAUTOCLAIM takes them. Only entries still owned by this consumer are touched.
--
-- KEYS[1] the events stream
-- ARGV[1] consumer group, ARGV[2] this consumer, ARGV[3..n] stream entry ids
-- Returns the ids this consumer no longer owns (acknowledged, or claimed by another instance after a stall).
--
-- Atomicity: the ownership check and the claim run as one step; a plain XCLAIM could take back an entry another
-- instance claimed a moment before, and both would then handle it.
local lost = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
  if #p == 1 and p[1][2] == ARGV[2] then
    -- JUSTID: resets the idle time without counting a new delivery.
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
