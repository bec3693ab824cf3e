-- Trims a stream below the oldest entry any of its consumer groups still needs; never anything unfinished.
--
-- KEYS[1] the stream
-- Returns how many entries were trimmed.
--
-- For each group the oldest entry it still needs is its oldest pending entry (read, not yet acknowledged), or,
-- with nothing pending, the entry after its last-delivered id (not read yet). XTRIM MINID removes only entries
-- older than the smallest of these, which every group has read and acknowledged. A stream without groups is left
-- alone (nobody has said what it needs). One script: a read between the survey and the trim cannot slip through.
local ok, groups = pcall(redis.call, 'XINFO', 'GROUPS', KEYS[1])
if not ok or #groups == 0 then
  return 0
end
local function parse(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1))
end
local floorMs, floorSeq
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do
    info[g[i]] = g[i + 1]
  end
  local ms, seq
  if tonumber(info['pending']) > 0 then
    local summary = redis.call('XPENDING', KEYS[1], info['name'])
    ms, seq = parse(summary[2])
  else
    ms, seq = parse(info['last-delivered-id'])
    seq = seq + 1
  end
  if not floorMs or ms < floorMs or (ms == floorMs and seq < floorSeq) then
    floorMs, floorSeq = ms, seq
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', string.format('%d-%d', floorMs, floorSeq))
