-- What a live consumer does for the entries it holds: resets the idle time of those it is working on (handling, or
-- waiting to retry), so no other consumer's reaper takes them as abandoned, and checks that it still owns the ones
-- it keeps without attempting (receiver paused): those it leaves idle, for a consumer that can handle them.
--
-- KEYS[1] the stream
-- ARGV[1] consumer group, ARGV[2] this consumer, ARGV[3..n] entry ids; an id prefixed with '?' is only checked
-- Returns the ids this consumer no longer owns (acknowledged, or claimed by another consumer).
--
-- Atomicity: the ownership check and the claim run as one step; a plain XCLAIM could take back an entry another
-- consumer claimed a moment before, and both would then handle it.
local lost = {}
for i = 3, #ARGV do
  local id = ARGV[i]
  local check = string.sub(id, 1, 1) == '?'
  if check then
    id = string.sub(id, 2)
  end
  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if #p == 1 and p[1][2] == ARGV[2] then
    if not check then
      -- JUSTID: resets the idle time without counting a new delivery.
      redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'JUSTID')
    end
  else
    lost[#lost + 1] = id
  end
end
return lost
